// DetectionLoader with a CUDA device (data/detection/batch_upload.h): each batch is uploaded from
// pinned host blocks on the loader's own copy stream, and equals the host loader's batch — whether
// the consumer drops each batch (device blocks reused) or keeps them all (new blocks), across an
// epoch end and a resume. Skips without a GPU.
#include <gtest/gtest.h>

#include "data/detection/detection_loader.h"
#include "tests/support/op_test_support.h"

namespace osprey::data {
namespace {

// Sample i: a (40 + 9i % 31) × (30 + 7i % 19) image with a pattern and i % 3 boxes.
class PatternSource : public DetectionSource {
 public:
  int64_t size() const override { return 11; }
  DetectionSample sample(int64_t i) const override {
    const int w = 40 + static_cast<int>(9 * i % 31), h = 30 + static_cast<int>(7 * i % 19);
    DetectionSample s;
    s.image = Image(w, h, 3);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c) {
          s.image.at(y, x, c) = static_cast<uint8_t>(x * 7 + y * 3 + c * 50 + i);
        }
      }
    }
    for (int k = 0; k < i % 3; ++k) s.objects.push_back(Object{{1, 2, float(9 + k), 12}, k});
    return s;
  }
};

void expect_equal(const DetectionBatch& device, const DetectionBatch& host) {
  EXPECT_TRUE(device.images.device().is_cuda());
  EXPECT_TRUE(device.boxes.device().is_cuda());
  EXPECT_EQ(device.position, host.position);
  EXPECT_EQ(device.images.shape(), host.images.shape());
  EXPECT_EQ(device.images.to_vector<float>(), host.images.to_vector<float>());
  EXPECT_EQ(device.boxes.to_vector<float>(), host.boxes.to_vector<float>());
  EXPECT_EQ(device.classes.to_vector<int64_t>(), host.classes.to_vector<int64_t>());
  EXPECT_EQ(device.counts.to_vector<int64_t>(), host.counts.to_vector<int64_t>());
  EXPECT_EQ(device.image_sizes.to_vector<int64_t>(), host.image_sizes.to_vector<int64_t>());
  EXPECT_EQ(device.indices.to_vector<int64_t>(), host.indices.to_vector<int64_t>());
}

const DetectionTransformConfig kTransform{
    .short_sides = {48, 64}, .flip = true, .mean = {120}, .std = {60}, .pad_multiple = 16};

TEST(DetectionUpload, UploadedBatchesEqualHostBatchesAndUseTheCopyStream) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto source = std::make_shared<PatternSource>();
  for (int64_t workers : {0, 2}) {
    DetectionLoader host(source, DetectionTransform(kTransform),
                         LoaderConfig{.batch_size = 2, .workers = workers, .seed = 4});
    DetectionLoader device(
        source, DetectionTransform(kTransform),
        LoaderConfig{.batch_size = 2, .workers = workers, .seed = 4, .device = Device::cuda(0)});
    ASSERT_NE(device.uploader(), nullptr);
    EXPECT_TRUE(device.host_pool().pinned());
    // A stream of its own: not the legacy default stream (null).
    EXPECT_NE(device.uploader()->stream().native_handle(), nullptr);
    size_t bytes = 0;
    for (int epoch = 0; epoch < 2; ++epoch) {
      int64_t batches = 0;
      while (auto expected = host.next()) {
        std::optional<DetectionBatch> batch = device.next();
        ASSERT_TRUE(batch.has_value());
        expect_equal(*batch, *expected);
        bytes += static_cast<size_t>(batch->indices.offset() + batch->indices.numel()) * 8;
        ++batches;
      }
      EXPECT_EQ(batches, 6);
      EXPECT_FALSE(device.next().has_value());
      EXPECT_EQ(device.position(), (LoaderPosition{epoch + 1, 0}));
    }
    // Every batch went through the copy stream (at least up to its last tensor, the indices).
    EXPECT_GE(device.uploader()->stream().bytes_copied(), bytes);
    EXPECT_LE(device.uploader()->device_blocks(), 4u);  // dropped batches' blocks were reused
  }
}

TEST(DetectionUpload, BatchesKeptByTheConsumerStayIntactAndResumeWorks) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto source = std::make_shared<PatternSource>();
  DetectionLoader host(source, DetectionTransform(kTransform),
                       LoaderConfig{.batch_size = 3, .workers = 2, .seed = 8});
  DetectionLoader device(
      source, DetectionTransform(kTransform),
      LoaderConfig{.batch_size = 3, .workers = 2, .seed = 8, .device = Device::cuda(0)});
  std::vector<DetectionBatch> kept, expected;
  while (auto batch = device.next()) kept.push_back(std::move(*batch));
  while (auto batch = host.next()) expected.push_back(std::move(*batch));
  ASSERT_EQ(kept.size(), expected.size());
  for (size_t i = 0; i < kept.size(); ++i) expect_equal(kept[i], expected[i]);
  device.set_position({0, 2});
  std::optional<DetectionBatch> again = device.next();
  ASSERT_TRUE(again.has_value());
  expect_equal(*again, expected[2]);
}

}  // namespace
}  // namespace osprey::data
