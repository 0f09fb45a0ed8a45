// The batched loader: collation, epochs and drop_last, identical batches at any thread count,
// resuming from a saved position, errors from workers, and (with the real files) the time of one
// augmented Fashion-MNIST epoch.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>

#include "data/fashion_mnist/fashion_mnist.h"
#include "data/loader.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using testing::expect_error;

// `n` examples of 1×6×6 u8 images whose pixel p of example i is (13·i + p) mod 256, label i mod 10.
// Example `bad` (if any) throws.
class PatternDataset : public Dataset {
 public:
  explicit PatternDataset(int64_t n, int64_t bad = -1) : n_(n), bad_(bad) {}
  int64_t size() const override { return n_; }
  Example example(int64_t index) const override {
    if (index == bad_) OSPREY_THROW(io, "example {} is corrupt", index);
    std::vector<uint8_t> pixels(36);
    for (size_t p = 0; p < pixels.size(); ++p)
      pixels[p] = static_cast<uint8_t>((13 * index + p) % 256);
    return {Tensor::from_vector<uint8_t>(pixels, {1, 6, 6}), index % 10};
  }
  const std::vector<std::string>& class_names() const override {
    return fashion_mnist_class_names();
  }

 private:
  int64_t n_, bad_;
};

TransformConfig augmenting() {
  return TransformConfig{.pad = 2, .crop = 6, .flip = true, .mean = {0.5f}, .std = {0.25f}};
}

LoaderConfig config(int64_t batch_size, int64_t workers, bool drop_last = false) {
  return LoaderConfig{.batch_size = batch_size,
                      .shuffle = true,
                      .drop_last = drop_last,
                      .workers = workers,
                      .seed = 1234};
}

// All batches of epochs [0, epochs), in order.
std::vector<Batch> run_epochs(DataLoader& loader, int64_t epochs) {
  std::vector<Batch> batches;
  for (int64_t e = 0; e < epochs; ++e) {
    while (auto batch = loader.next()) batches.push_back(std::move(*batch));
  }
  return batches;
}

void expect_same_batch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.position, b.position);
  EXPECT_EQ(a.images.shape(), b.images.shape());
  EXPECT_EQ(a.images.to_vector<float>(), b.images.to_vector<float>())
      << "batch " << a.position.str();
  EXPECT_EQ(a.labels.to_vector<int64_t>(), b.labels.to_vector<int64_t>());
  EXPECT_EQ(a.indices.to_vector<int64_t>(), b.indices.to_vector<int64_t>());
}

TEST(Loader, CollatesTransformedExamples) {
  auto dataset = std::make_shared<PatternDataset>(10);
  ClassificationTransform transform(augmenting());
  DataLoader loader(dataset, transform, config(4, 0));
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  std::vector<Batch> batches = run_epochs(loader, 1);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].images.shape(), (Shape{4, 1, 6, 6}));
  EXPECT_TRUE(batches[0].images.is_contiguous());
  EXPECT_EQ(batches[2].images.shape(), (Shape{2, 1, 6, 6}));  // the short last batch
  std::set<int64_t> seen;
  for (const Batch& batch : batches) {
    auto indices = batch.indices.to_vector<int64_t>();
    auto labels = batch.labels.to_vector<int64_t>();
    auto images = batch.images.to_vector<float>();
    for (size_t k = 0; k < indices.size(); ++k) {
      seen.insert(indices[k]);
      EXPECT_EQ(labels[k], indices[k] % 10);
      // Each image is the transform of its example with the choice of (seed, epoch 0, index).
      Example example = dataset->example(indices[k]);
      auto expected = transform.apply(example.image, 1234, 0, indices[k]).to_vector<float>();
      EXPECT_EQ(std::vector<float>(images.begin() + k * 36, images.begin() + (k + 1) * 36),
                expected);
    }
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(loader.position(), (LoaderPosition{1, 0}));
  // The next epoch has another order.
  auto next = loader.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->position, (LoaderPosition{1, 0}));
  EXPECT_NE(next->indices.to_vector<int64_t>(), batches[0].indices.to_vector<int64_t>());
}

TEST(Loader, DropLastAndNoShuffle) {
  auto dataset = std::make_shared<PatternDataset>(10);
  LoaderConfig c = config(4, 0, /*drop_last=*/true);
  c.shuffle = false;
  DataLoader loader(dataset, ClassificationTransform(), c);
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  std::vector<Batch> batches = run_epochs(loader, 2);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[1].indices.to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(batches[3].position, (LoaderPosition{1, 1}));
  // Without augmentation an image is its u8 pixels over 255.
  EXPECT_FLOAT_EQ(batches[1].images.at<float>({0, 0, 0, 1}),
                  static_cast<float>(13 * 4 + 1) / 255.0f);
}

TEST(Loader, OneAndFourThreadsGiveIdenticalBatches) {
  auto dataset = std::make_shared<PatternDataset>(203);
  DataLoader one(dataset, ClassificationTransform(augmenting()), config(16, 0));
  DataLoader four(dataset, ClassificationTransform(augmenting()), config(16, 4));
  std::vector<Batch> a = run_epochs(one, 3), b = run_epochs(four, 3);
  ASSERT_EQ(a.size(), 3u * 13u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_same_batch(a[i], b[i]);
}

TEST(Loader, ResumeContinuesWithTheSameBatches) {
  auto dataset = std::make_shared<PatternDataset>(50);
  for (int64_t workers : {0, 3}) {
    DataLoader reference(dataset, ClassificationTransform(augmenting()), config(8, 2));
    run_epochs(reference, 1);
    for (int i = 0; i < 3; ++i) reference.next();
    const std::string saved = reference.position().str();
    EXPECT_EQ(saved, "1:3");
    // The following batches, across the end of epoch 1 into epoch 2.
    std::vector<Batch> expected;
    for (int i = 0; i < 8; ++i) {
      if (auto batch = reference.next()) expected.push_back(std::move(*batch));
    }
    ASSERT_EQ(expected.size(), 7u);  // 4 left of epoch 1, the end of epoch 1, 3 of epoch 2

    DataLoader resumed(dataset, ClassificationTransform(augmenting()), config(8, workers));
    resumed.next();  // state before the restore must not matter
    resumed.set_position(LoaderPosition::parse(saved));
    std::vector<Batch> got;
    for (int i = 0; i < 8; ++i) {
      if (auto batch = resumed.next()) got.push_back(std::move(*batch));
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) expect_same_batch(got[i], expected[i]);
    EXPECT_EQ(resumed.position(), (LoaderPosition{2, 3}));
  }
}

TEST(Loader, PositionTextAndErrors) {
  EXPECT_EQ(LoaderPosition::parse("12:345"), (LoaderPosition{12, 345}));
  expect_error([] { LoaderPosition::parse("12"); }, ErrorKind::value,
               "loader position '12' is not of the form epoch:batch (decimal numbers)");
  expect_error([] { LoaderPosition::parse("1:-2"); }, ErrorKind::value,
               "loader position '1:-2' is not of the form epoch:batch (decimal numbers)");
  auto dataset = std::make_shared<PatternDataset>(10);
  DataLoader loader(dataset, ClassificationTransform(), config(4, 2));
  expect_error(
      [&] {
        loader.set_position({0, 4});
      },
      ErrorKind::value, "loader: cannot resume at batch 4 of epoch 0 (an epoch has 3 batches)");
  loader.set_position({0, 3});  // the end of epoch 0
  EXPECT_FALSE(loader.next());
  EXPECT_EQ(loader.position(), (LoaderPosition{1, 0}));
  expect_error(
      [] {
        DataLoader(std::make_shared<PatternDataset>(3), ClassificationTransform(),
                   LoaderConfig{.batch_size = 0});
      },
      ErrorKind::value, "loader: batch_size must be positive, got 0");
}

TEST(Loader, WorkerErrorsReachTheCaller) {
  LoaderConfig c = config(4, 2);
  c.shuffle = false;
  DataLoader loader(std::make_shared<PatternDataset>(12, /*bad=*/5), ClassificationTransform(), c);
  EXPECT_TRUE(loader.next());
  expect_error([&] { loader.next(); }, ErrorKind::io, "example 5 is corrupt");
  EXPECT_EQ(loader.position(), (LoaderPosition{0, 1}));
  loader.set_position({0, 2});
  auto batch = loader.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->indices.to_vector<int64_t>(), (std::vector<int64_t>{8, 9, 10, 11}));
}

// One epoch of the real training split with the augmentation of the built-in study, made
// synchronously on the calling thread (workers = 0, one core). Prints the time.
TEST(LoaderReal, FashionMnistEpochTime) {
  if (!std::filesystem::exists(std::string(kFashionMnistDefaultDir) +
                               "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
  }
  auto dataset = std::make_shared<FashionMnistDataset>(kFashionMnistDefaultDir, "train");
  ClassificationTransform transform(TransformConfig{
      .pad = 4, .crop = 28, .flip = true, .mean = {kFashionMnistMean}, .std = {kFashionMnistStd}});
  for (int64_t workers : {0, 2}) {
    DataLoader loader(dataset, transform, config(128, workers));
    auto start = std::chrono::steady_clock::now();
    int64_t images = 0;
    double sum = 0;
    while (auto batch = loader.next()) {
      images += batch->images.size(0);
      sum += batch->images.data<float>()[0];
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(images, 60000);
    std::cout
        << "[ timing   ] Fashion-MNIST train epoch, pad 4 + crop 28 + flip + normalise, batch "
           "128, workers "
        << workers << ": " << seconds * 1000.0 << " ms (checksum " << sum << ")\n";
    ::testing::Test::RecordProperty("epoch_ms_workers_" + std::to_string(workers),
                                    std::to_string(seconds * 1000.0));
  }
}

}  // namespace
}  // namespace osprey::data
