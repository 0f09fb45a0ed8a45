// Detection batches: collation pads images (pad value), masks (255) and boxes (count per image);
// the loader gives the same batches at any thread count and after a resume; FileDetectionSource
// reads images and palette masks and checks their sizes against the annotation.
#include <gtest/gtest.h>

#include "data/detection/detection_loader.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using testing::expect_error;

// A width × height RGB image of value `v` with one box per `boxes` entry (class = entry index),
// and a mask of class 1 everywhere.
DetectionSample flat_sample(int width, int height, uint8_t v, int boxes) {
  DetectionSample s;
  s.image = Image(width, height, 3);
  std::fill(s.image.pixels.begin(), s.image.pixels.end(), v);
  s.mask = Image(width, height, 1);
  std::fill(s.mask.pixels.begin(), s.mask.pixels.end(), uint8_t{1});
  for (int k = 0; k < boxes; ++k) {
    s.objects.push_back(Object{{float(k), 1, float(k + 2), 3}, k, k == 1});
  }
  return s;
}

TEST(DetectionCollate, PadsImagesMasksAndBoxes) {
  DetectionTransform identity(DetectionTransformConfig{});
  std::vector<DetectionResult> results{identity.apply(flat_sample(8, 6, 10, 1), 0, 0, 0),
                                       identity.apply(flat_sample(5, 10, 20, 2), 0, 0, 1)};
  const DetectionBatch b = collate_detection(results, {7, 3}, 4, -1.0f);
  EXPECT_EQ(b.images.shape(), (Shape{2, 3, 12, 8}));
  EXPECT_EQ(b.masks.shape(), (Shape{2, 12, 8}));
  EXPECT_EQ(b.boxes.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(b.image_sizes.to_vector<int64_t>(), (std::vector<int64_t>{6, 8, 10, 5}));
  EXPECT_EQ(b.counts.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.indices.to_vector<int64_t>(), (std::vector<int64_t>{7, 3}));
  EXPECT_EQ(b.classes.to_vector<int64_t>(), (std::vector<int64_t>{0, -1, 0, 1}));
  EXPECT_EQ(b.difficult.to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(b.boxes.to_vector<float>(),
            (std::vector<float>{0, 1, 2, 3, 0, 0, 0, 0, 0, 1, 2, 3, 1, 1, 3, 3}));
  const std::vector<float> images = b.images.to_vector<float>();
  auto pixel = [&](int n, int c, int y, int x) { return images[((n * 3 + c) * 12 + y) * 8 + x]; };
  EXPECT_EQ(pixel(0, 2, 5, 7), 10.0f);
  EXPECT_EQ(pixel(0, 2, 6, 7), -1.0f);  // below image 0
  EXPECT_EQ(pixel(1, 0, 9, 4), 20.0f);
  EXPECT_EQ(pixel(1, 0, 9, 5), -1.0f);  // right of image 1
  const std::vector<uint8_t> masks = b.masks.to_vector<uint8_t>();
  EXPECT_EQ(masks[5 * 8 + 7], 1);
  EXPECT_EQ(masks[6 * 8 + 7], 255);
  EXPECT_EQ(masks[96 + 9 * 8 + 5], 255);

  results[1].mask = Tensor();
  expect_error(
      [&] {
        collate_detection(results, {7, 3}, 1, 0.0f);
      },
      ErrorKind::value,
      "collate_detection: sample 1 (dataset index 3) has no mask but sample 0 has one");
}

// Sample i: a (20 + 3i) × (15 + i) image of value i with i % 3 boxes.
class FlatSource : public DetectionSource {
 public:
  explicit FlatSource(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  DetectionSample sample(int64_t i) const override {
    return flat_sample(20 + 3 * static_cast<int>(i), 15 + static_cast<int>(i),
                       static_cast<uint8_t>(i), static_cast<int>(i % 3));
  }

 private:
  int64_t n_;
};

void expect_same(const DetectionBatch& a, const DetectionBatch& b) {
  EXPECT_EQ(a.position, b.position);
  EXPECT_EQ(a.images.shape(), b.images.shape());
  EXPECT_EQ(a.images.to_vector<float>(), b.images.to_vector<float>());
  EXPECT_EQ(a.boxes.to_vector<float>(), b.boxes.to_vector<float>());
  EXPECT_EQ(a.masks.to_vector<uint8_t>(), b.masks.to_vector<uint8_t>());
  EXPECT_EQ(a.indices.to_vector<int64_t>(), b.indices.to_vector<int64_t>());
}

TEST(DetectionLoader, SameBatchesAtAnyThreadCountAndAfterResume) {
  auto source = std::make_shared<FlatSource>(11);
  DetectionTransformConfig augment{.crop_probability = 0.5f,
                                   .crop_min_fraction = 0.6f,
                                   .short_sides = {16, 24},
                                   .flip = true,
                                   .pad_multiple = 8};
  std::vector<DetectionBatch> serial;
  DetectionLoader one(source, DetectionTransform(augment),
                      LoaderConfig{.batch_size = 4, .workers = 0, .seed = 9});
  EXPECT_EQ(one.batches_per_epoch(), 3);
  while (auto batch = one.next()) serial.push_back(std::move(*batch));
  ASSERT_EQ(serial.size(), 3u);
  EXPECT_EQ(serial[2].indices.numel(), 3);
  EXPECT_EQ(serial[0].images.size(2) % 8, 0);
  EXPECT_EQ(one.position(), (LoaderPosition{1, 0}));

  DetectionLoader three(source, DetectionTransform(augment),
                        LoaderConfig{.batch_size = 4, .workers = 3, .seed = 9});
  for (const DetectionBatch& expected : serial) {
    auto batch = three.next();
    ASSERT_TRUE(batch.has_value());
    expect_same(*batch, expected);
  }
  EXPECT_FALSE(three.next().has_value());
  three.set_position({0, 1});
  expect_same(*three.next(), serial[1]);
  // Every sample's objects survive or are counted as dropped.
  int64_t objects = 0, dropped = 0;
  for (const DetectionBatch& b : serial) {
    for (int64_t c : b.counts.to_vector<int64_t>()) objects += c;
    dropped += b.dropped;
  }
  EXPECT_EQ(objects + dropped, 0 + 1 + 2 + 0 + 1 + 2 + 0 + 1 + 2 + 0 + 1);
}

class FileSource : public testing::TempDirTest {};

TEST_F(FileSource, ReadsImagesAndPaletteMasksRelativeToTheRoot) {
  Image image(12, 8, 3);
  std::fill(image.pixels.begin(), image.pixels.end(), uint8_t{128});
  write_file_bytes(path("a.jpg"), encode_jpeg(image, 95));
  Image mask(12, 8, 1);
  for (size_t i = 0; i < mask.pixels.size(); ++i) mask.pixels[i] = i % 12 < 6 ? 15 : 255;
  write_file_bytes(path("a.png"), encode_png_palette(mask, voc_palette()));
  write_file_bytes(path("small.png"), encode_png_palette(Image(4, 4, 1), voc_palette()));

  DetectionDataset dataset{"toy", dir_.string(), {"thing"}, {}};
  dataset.images.push_back(AnnotatedImage{"a", "a.jpg", 12, 8, {Object{{1, 1, 5, 5}, 0}}, "a.png"});
  dataset.images.push_back(AnnotatedImage{"b", "a.jpg", 10, 8, {}, ""});
  dataset.images.push_back(AnnotatedImage{"c", path("a.jpg"), 0, 0, {}, "small.png"});
  FileDetectionSource source(dataset);
  const DetectionSample s = source.sample(0);
  EXPECT_EQ(s.image.channels, 3);
  EXPECT_NEAR(s.image.at(4, 4, 1), 128, 2);
  EXPECT_EQ(s.mask.pixels, mask.pixels);
  EXPECT_EQ(s.objects.size(), 1u);
  expect_error(
      [&] { source.sample(1); }, ErrorKind::io,
      "image '" + path("a.jpg") + "' (id 'b') decodes to 12x8 but its annotation says 10x8");
  expect_error(
      [&] { source.sample(2); }, ErrorKind::io,
      "mask '" + path("small.png") + "' is 4x4 but its image '" + path("a.jpg") + "' is 12x8");
  expect_error([&] { source.sample(3); }, ErrorKind::value,
               "dataset 'toy': no sample 3 (it has 3)");
}

TEST_F(FileSource, DctScaledDecodingScalesBoxesAndMasks) {
  Image image(64, 48, 3);
  Image mask(64, 48, 1);
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 64; ++x) {
      const bool inside = x >= 8 && x < 32 && y >= 8 && y < 24;
      for (int c = 0; c < 3; ++c) image.at(y, x, c) = inside ? 220 : 30;
      mask.at(y, x, 0) = inside ? 7 : 0;
    }
  }
  write_file_bytes(path("a.jpg"), encode_jpeg(image, 95));
  write_file_bytes(path("a.png"), encode_png_palette(mask, voc_palette()));
  DetectionDataset dataset{"toy", dir_.string(), {"thing"}, {}};
  dataset.images.push_back(
      AnnotatedImage{"a", "a.jpg", 64, 48, {Object{{8, 8, 32, 24}, 0}}, "a.png"});
  // Both sides at least 20: 1/2 (32×24) fits, 1/4 (16×12) does not.
  DecodeOptions options;
  options.min_width = options.min_height = 20;
  const DetectionSample s = FileDetectionSource(dataset, options).sample(0);
  EXPECT_EQ(s.image.width, 32);
  EXPECT_EQ(s.image.height, 24);
  EXPECT_EQ(s.objects[0].box, (std::array<float, 4>{4, 4, 16, 12}));
  ASSERT_EQ(s.mask.width, 32);
  EXPECT_EQ(s.mask.at(4, 4, 0), 7);
  EXPECT_EQ(s.mask.at(11, 15, 0), 7);
  EXPECT_EQ(s.mask.at(12, 15, 0), 0);
  EXPECT_EQ(s.mask.at(11, 16, 0), 0);
  EXPECT_NEAR(s.image.at(8, 10, 0), 220, 8);
  EXPECT_NEAR(s.image.at(20, 25, 0), 30, 8);
}

TEST_F(FileSource, NormalizedBoxesBecomePixelsOfTheDecodedImage) {
  write_file_bytes(path("a.jpg"), encode_jpeg(Image(64, 48, 3), 95));
  DetectionDataset dataset{"toy", dir_.string(), {"thing"}, {}};
  AnnotatedImage entry{"a", "a.jpg", 0, 0, {Object{{0.25f, 0.5f, 0.75f, 1.0f}, 0}}, ""};
  entry.normalized_boxes = true;  // as the OpenImages reader gives them
  dataset.images.push_back(entry);
  EXPECT_EQ(FileDetectionSource(dataset).sample(0).objects[0].box,
            (std::array<float, 4>{16, 24, 48, 48}));
  DecodeOptions options;
  options.min_width = options.min_height = 20;  // decoded at 1/2: 32×24
  EXPECT_EQ(FileDetectionSource(dataset, options).sample(0).objects[0].box,
            (std::array<float, 4>{8, 12, 24, 24}));
}

}  // namespace
}  // namespace osprey::data
