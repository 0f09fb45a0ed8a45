// The detection loader under trouble: corrupt files are an error naming the file (strict) or are
// replaced by the next readable sample and counted (skip), the same at any thread count; a loader
// destroyed mid-epoch while its workers are busy stops promptly and releases its source.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "data/detection/detection_loader.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

class CorruptFiles : public testing::TempDirTest {
 protected:
  // Six 16x12 JPEGs of value 10 * i; files 1, 2 (truncated, adjacent) and 5 (not an image, the
  // last, so its replacement wraps to 0) are corrupt.
  DetectionDataset dataset() {
    DetectionDataset d{"toy", dir_.string(), {"thing"}, {}};
    for (int i = 0; i < 6; ++i) {
      Image image(16, 12, 3);
      std::fill(image.pixels.begin(), image.pixels.end(), static_cast<uint8_t>(10 * i + 20));
      std::vector<uint8_t> bytes = encode_jpeg(image, 95);
      if (i == 1 || i == 2) bytes.resize(bytes.size() / 3);
      if (i == 5) bytes = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
      const std::string name = "img" + std::to_string(i) + ".jpg";
      write_file_bytes(path(name), bytes);
      d.images.push_back(
          AnnotatedImage{"id" + std::to_string(i), name, 16, 12, {Object{{1, 1, 5, 5}, i}}, ""});
    }
    return d;
  }
};

TEST_F(CorruptFiles, StrictPolicyNamesTheFile) {
  FileDetectionSource source(dataset());
  EXPECT_EQ(source.sample(0).skipped, 0);
  try {
    source.sample(5);
    ADD_FAILURE() << "no error for a corrupt file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_NE(e.message().find(path("img5.jpg")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("reading sample 5 (id 'id5') of dataset 'toy'"),
              std::string::npos)
        << e.what();
  }
  DetectionLoader loader(std::make_shared<FileDetectionSource>(dataset()), DetectionTransform({}),
                         LoaderConfig{.batch_size = 2, .shuffle = false});
  EXPECT_THROW(loader.next(), Error);  // batch 0 holds samples 0 and 1
  EXPECT_EQ(loader.position(), (LoaderPosition{0, 0}));
}

TEST_F(CorruptFiles, SkipPolicyReplacesByTheNextReadableSampleAndCounts) {
  FileDetectionSource source(dataset(), {}, CorruptSamplePolicy::skip);
  const DetectionSample one = source.sample(1);
  EXPECT_EQ(one.skipped, 2);  // 1 and 2 are corrupt: sample 3 is read
  EXPECT_EQ(one.index, 3);
  EXPECT_EQ(one.objects[0].class_id, 3);
  EXPECT_NEAR(one.image.at(5, 5, 0), 50, 2);
  const DetectionSample five = source.sample(5);
  EXPECT_EQ(five.skipped, 1);
  EXPECT_EQ(five.index, 0);
  EXPECT_EQ(source.sample(4).index, -1);

  auto shared =
      std::make_shared<FileDetectionSource>(dataset(), DecodeOptions{}, CorruptSamplePolicy::skip);
  for (int64_t workers : {0, 3}) {
    DetectionLoader loader(shared, DetectionTransform({.flip = true}),
                           LoaderConfig{.batch_size = 4, .workers = workers, .seed = 3});
    std::vector<int64_t> indices;
    int64_t corrupt = 0;
    while (auto batch = loader.next()) {
      corrupt += batch->corrupt;
      for (int64_t i : batch->indices.to_vector<int64_t>()) indices.push_back(i);
    }
    // Samples 1, 2 and 5 come back as 3, 3 and 0; 1 + 2 + 1 corrupt files were passed over.
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, (std::vector<int64_t>{0, 0, 3, 3, 3, 4})) << "workers " << workers;
    EXPECT_EQ(corrupt, 4);
    EXPECT_EQ(loader.corrupt_samples(), 4);
  }
}

TEST_F(CorruptFiles, SkipPolicyWithNothingReadableIsTheRequestedSamplesError) {
  DetectionDataset d = dataset();
  d.images = {d.images[1], d.images[5]};
  FileDetectionSource source(d, {}, CorruptSamplePolicy::skip);
  try {
    source.sample(1);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(path("img5.jpg")), std::string::npos) << e.what();
  }
}

// Samples 0 and 2 have masks, 1 and 3 none.
class MixedMaskSource : public DetectionSource {
 public:
  int64_t size() const override { return 4; }
  DetectionSample sample(int64_t i) const override {
    DetectionSample s;
    s.image = Image(8, 6, 3);
    if (i % 2 == 0) s.mask = Image(8, 6, 1);
    return s;
  }
};

TEST(DetectionLoaderErrors, SamplesWithAndWithoutMasksInOneBatch) {
  DetectionLoader loader(std::make_shared<MixedMaskSource>(), DetectionTransform({}),
                         LoaderConfig{.batch_size = 2, .shuffle = false});
  testing::expect_error([&] { loader.next(); }, ErrorKind::value,
                        "detection loader: sample 1 of batch 0 (dataset index 1) has no mask but "
                        "sample 0 (dataset index 0) has one");
}

// Each sample takes 30 ms; counts the samples being made.
class SlowSource : public DetectionSource {
 public:
  int64_t size() const override { return 64; }
  DetectionSample sample(int64_t i) const override {
    ++busy;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    DetectionSample s;
    s.image = Image(40, 30, 3);
    std::fill(s.image.pixels.begin(), s.image.pixels.end(), static_cast<uint8_t>(i));
    --busy;
    return s;
  }
  mutable std::atomic<int> busy{0};
};

TEST(DetectionLoaderShutdown, DestroyedMidEpochWhileWorkersAreBusy) {
  auto source = std::make_shared<SlowSource>();
  for (int64_t workers : {1, 3}) {
    auto loader = std::make_unique<DetectionLoader>(
        source, DetectionTransform({.short_sides = {60}}),
        LoaderConfig{.batch_size = 2, .workers = workers, .prefetch = 6});
    ASSERT_TRUE(loader->next().has_value());
    // Wait until the workers are inside sample(), then destroy the loader under them.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (source->busy.load() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_GT(source->busy.load(), 0);
    const auto t0 = std::chrono::steady_clock::now();
    loader.reset();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Each worker finishes at most the batch it is making (2 samples, 60 ms), nothing more.
    EXPECT_LT(seconds, 1.0) << "workers " << workers;
    EXPECT_EQ(source->busy.load(), 0);
    EXPECT_EQ(source.use_count(), 1);  // the threads and the loader let go of the source
  }
}

}  // namespace
}  // namespace osprey::data
