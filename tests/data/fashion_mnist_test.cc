// The Fashion-MNIST reader on idx fixtures written here (gzip'd and plain, and broken ones, with
// the exact error messages), and on the real files of `dataset-fashion-mnist` when installed.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include "data/fashion_mnist/fashion_mnist.h"
#include "data/fashion_mnist/idx_file.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using testing::expect_error;
using testing::idx_bytes;
using testing::write_gzip;
using testing::write_plain;

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

std::vector<uint8_t> image_pixels(uint32_t n) {
  std::vector<uint8_t> pixels(n * 28 * 28);
  for (size_t p = 0; p < pixels.size(); ++p)
    pixels[p] = static_cast<uint8_t>((p * 7 + p / 784) % 256);
  return pixels;
}

std::vector<uint8_t> label_values(uint32_t n) {
  std::vector<uint8_t> labels(n);
  for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>((i * 3) % 10);
  return labels;
}

class FashionMnistFixture : public testing::TempDirTest {
 protected:
  // A consistent split of `n` examples under the given file prefix ("train" or "t10k").
  void write_split(const std::string& prefix, uint32_t n, bool gzip = true) {
    auto write = gzip ? write_gzip : write_plain;
    const std::string ext = gzip ? ".gz" : "";
    write(path(prefix + "-images-idx3-ubyte" + ext),
          idx_bytes(kImagesMagic, {n, 28, 28}, image_pixels(n)));
    write(path(prefix + "-labels-idx1-ubyte" + ext), idx_bytes(kLabelsMagic, {n}, label_values(n)));
  }
  std::string images_gz() const { return path("train-images-idx3-ubyte.gz"); }
  std::string labels_gz() const { return path("train-labels-idx1-ubyte.gz"); }
};

void expect_split_values(const FashionMnistData& data, uint32_t n) {
  ASSERT_EQ(data.images.shape(), (Shape{n, 28, 28}));
  ASSERT_EQ(data.images.dtype(), DType::u8);
  ASSERT_EQ(data.labels.shape(), (Shape{n}));
  ASSERT_EQ(data.labels.dtype(), DType::i64);
  EXPECT_EQ(data.images.to_vector<uint8_t>(), image_pixels(n));
  std::vector<int64_t> labels;
  for (uint8_t l : label_values(n)) labels.push_back(l);
  EXPECT_EQ(data.labels.to_vector<int64_t>(), labels);
}

TEST_F(FashionMnistFixture, ReadsGzipAndPlainSplits) {
  write_split("train", 5);
  write_split("t10k", 3, /*gzip=*/false);
  expect_split_values(read_fashion_mnist(dir_.string(), "train"), 5);
  expect_split_values(read_fashion_mnist(dir_.string(), "test"), 3);
}

TEST_F(FashionMnistFixture, DatasetViewsImagesAndLabels) {
  write_split("train", 4);
  FashionMnistDataset dataset(dir_.string(), "train");
  ASSERT_EQ(dataset.size(), 4);
  EXPECT_EQ(dataset.class_names().size(), 10u);
  EXPECT_EQ(dataset.class_names()[9], "Ankle boot");
  Example example = dataset.example(2);
  EXPECT_EQ(example.image.shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(example.label, 6);
  auto pixels = image_pixels(4);
  EXPECT_EQ(example.image.at<uint8_t>({0, 3, 5}), pixels[2 * 784 + 3 * 28 + 5]);
  EXPECT_EQ(example.image.to_vector<uint8_t>(),
            std::vector<uint8_t>(pixels.begin() + 2 * 784, pixels.begin() + 3 * 784));
  expect_error([&] { dataset.example(4); }, ErrorKind::value,
               "FashionMnistDataset: index 4 outside [0, 4)");
}

TEST_F(FashionMnistFixture, MissingFileNamesThePackage) {
  write_split("t10k", 2);
  const std::string gz = path("train-images-idx3-ubyte.gz"),
                    plain = path("train-images-idx3-ubyte");
  expect_error(
      [&] { read_fashion_mnist(dir_.string(), "train"); }, ErrorKind::not_found,
      "Fashion-MNIST: missing " + gz + " (nor the uncompressed " + plain +
          "); install the Debian package with `apt-get install dataset-fashion-mnist` (or "
          "run tools/setup.sh), which puts the files in /usr/share/datasets/fashion-mnist");
  expect_error([&] { read_fashion_mnist(dir_.string(), "val"); }, ErrorKind::value,
               "Fashion-MNIST: unknown split 'val' (known: train, test)");
}

TEST_F(FashionMnistFixture, WrongMagicNumber) {
  write_split("train", 2);
  // Images and labels swapped: a labels file where images are expected.
  write_gzip(images_gz(), idx_bytes(kLabelsMagic, {2}, {1, 2}));
  expect_error([&] { read_fashion_mnist(dir_.string(), "train"); }, ErrorKind::io,
               images_gz() +
                   ": bad magic number 0x00000801, expected 0x00000803 (idx file of unsigned bytes "
                   "with 3 dimensions)");
  // Not an idx file at all (e.g. an HTML error page saved under the name).
  write_plain(path("x"), "<html>");
  expect_error([&] { read_idx(path("x"), 1); }, ErrorKind::io,
               path("x") +
                   ": bad magic number 0x3c68746d, expected 0x00000801 (idx file of "
                   "unsigned bytes with 1 dimensions)");
}

TEST_F(FashionMnistFixture, TruncatedFiles) {
  write_split("train", 2);
  // The data stops 10 bytes short of what the header promises (a valid gzip stream).
  auto pixels = image_pixels(2);
  pixels.resize(pixels.size() - 10);
  write_gzip(images_gz(), idx_bytes(kImagesMagic, {2, 28, 28}, pixels));
  expect_error([&] { read_fashion_mnist(dir_.string(), "train"); }, ErrorKind::io,
               images_gz() + ": truncated data: 1558 of 1568 bytes");
  // The header itself is cut.
  write_gzip(labels_gz(), idx_bytes(kLabelsMagic, {}, {}) + std::string(2, '\0'));
  expect_error([&] { read_idx(labels_gz(), 1); }, ErrorKind::io,
               labels_gz() + ": truncated header: 2 of 4 size bytes");
  write_plain(path("empty"), "");
  expect_error([&] { read_idx(path("empty"), 1); }, ErrorKind::io,
               path("empty") + ": truncated header: 0 of 4 magic-number bytes");
  // Extra bytes after the data.
  write_plain(path("long"), idx_bytes(kLabelsMagic, {2}, {1, 2, 3}));
  expect_error([&] { read_idx(path("long"), 1); }, ErrorKind::io,
               path("long") + ": unexpected bytes after the 2 data bytes the header describes");
}

TEST_F(FashionMnistFixture, CutGzipStreamIsAnError) {
  // A download cut short: the compressed stream itself ends early. zlib reports what it could
  // decompress; the reader must not accept it.
  std::string full = idx_bytes(kImagesMagic, {2, 28, 28}, image_pixels(2));
  write_gzip(path("whole.gz"), full);
  std::ifstream in(path("whole.gz"), std::ios::binary);
  std::string compressed((std::istreambuf_iterator<char>(in)), {});
  write_plain(images_gz(), compressed.substr(0, compressed.size() / 2));
  try {
    read_idx(images_gz(), 3);
    ADD_FAILURE() << "a cut gzip stream was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    const std::string prefix = images_gz() + ": corrupt or truncated gzip data after ";
    EXPECT_EQ(e.message().rfind(prefix, 0), 0u) << e.message();
    EXPECT_NE(e.message().find("unexpected end of file"), std::string::npos) << e.message();
  }
}

TEST_F(FashionMnistFixture, CountMismatchWrongSizeAndLabelRange) {
  write_split("train", 3);
  write_gzip(labels_gz(), idx_bytes(kLabelsMagic, {2}, {0, 1}));
  expect_error([&] { read_fashion_mnist(dir_.string(), "train"); }, ErrorKind::io,
               "Fashion-MNIST split 'train': " + images_gz() + " holds 3 images but " +
                   labels_gz() + " holds 2 labels");
  write_gzip(labels_gz(), idx_bytes(kLabelsMagic, {3}, {0, 10, 1}));
  expect_error([&] { read_fashion_mnist(dir_.string(), "train"); }, ErrorKind::io,
               labels_gz() + ": label 10 of example 1 is outside [0, 9]");
  write_gzip(images_gz(), idx_bytes(kImagesMagic, {3, 32, 32}, std::vector<uint8_t>(3 * 32 * 32)));
  expect_error([&] { read_fashion_mnist(dir_.string(), "train"); }, ErrorKind::io,
               images_gz() + ": images are 32x32, expected 28x28");
}

// The real files, when `dataset-fashion-mnist` is installed.
TEST(FashionMnistReal, CountsAndClassHistogram) {
  const std::string dir = kFashionMnistDefaultDir;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
  }
  FashionMnistData train = read_fashion_mnist(dir, "train");
  FashionMnistData test = read_fashion_mnist(dir, "test");
  EXPECT_EQ(train.images.shape(), (Shape{60000, 28, 28}));
  EXPECT_EQ(test.images.shape(), (Shape{10000, 28, 28}));
  std::array<int64_t, 10> train_counts{}, test_counts{};
  for (int64_t l : train.labels.to_vector<int64_t>()) ++train_counts[static_cast<size_t>(l)];
  for (int64_t l : test.labels.to_vector<int64_t>()) ++test_counts[static_cast<size_t>(l)];
  for (size_t c = 0; c < 10; ++c) {
    EXPECT_EQ(train_counts[c], 6000) << "class " << c;
    EXPECT_EQ(test_counts[c], 1000) << "class " << c;
  }
  // The first training image is an ankle boot (label 9) in the published files.
  EXPECT_EQ(train.labels.at<int64_t>({0}), 9);
  double sum = 0;
  for (uint8_t v : train.images.to_vector<uint8_t>()) sum += v;
  EXPECT_NEAR(sum / (60000.0 * 784.0 * 255.0), kFashionMnistMean, 5e-4);
}

}  // namespace
}  // namespace osprey::data
