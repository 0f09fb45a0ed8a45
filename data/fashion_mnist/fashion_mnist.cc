#include "data/fashion_mnist/fashion_mnist.h"

#include <cstring>
#include <filesystem>

#include "data/fashion_mnist/idx_file.h"
#include "framework/core/error.h"

namespace osprey::data {
namespace {

namespace fs = std::filesystem;

// The file holding `stem` (e.g. "train-images-idx3-ubyte"): the gzip'd one if present, else the
// plain one; neither is an error that says where the files come from.
std::string find_file(const std::string& directory, const std::string& stem) {
  fs::path gz = fs::path(directory) / (stem + ".gz");
  fs::path plain = fs::path(directory) / stem;
  std::error_code ec;
  if (fs::is_regular_file(gz, ec)) return gz.string();
  if (fs::is_regular_file(plain, ec)) return plain.string();
  OSPREY_THROW(not_found,
               "Fashion-MNIST: missing {} (nor the uncompressed {}); install the Debian package "
               "with `apt-get install dataset-fashion-mnist` (or run tools/setup.sh), which puts "
               "the files in {}",
               gz.string(), plain.string(), kFashionMnistDefaultDir);
}

}  // namespace

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

FashionMnistData read_fashion_mnist(const std::string& directory, const std::string& split) {
  OSPREY_CHECK(split == "train" || split == "test",
               "Fashion-MNIST: unknown split '{}' (known: train, test)", split);
  const std::string prefix = split == "train" ? "train" : "t10k";
  std::string images_path = find_file(directory, prefix + "-images-idx3-ubyte");
  std::string labels_path = find_file(directory, prefix + "-labels-idx1-ubyte");

  IdxArray images = read_idx(images_path, 3);
  OSPREY_CHECK_KIND(io, images.dims[1] == kFashionMnistSide && images.dims[2] == kFashionMnistSide,
                    "{}: images are {}x{}, expected {}x{}", images_path, images.dims[1],
                    images.dims[2], kFashionMnistSide, kFashionMnistSide);
  IdxArray labels = read_idx(labels_path, 1);
  OSPREY_CHECK_KIND(io, images.dims[0] == labels.dims[0],
                    "Fashion-MNIST split '{}': {} holds {} images but {} holds {} labels", split,
                    images_path, images.dims[0], labels_path, labels.dims[0]);

  const int64_t n = images.dims[0];
  FashionMnistData data;
  data.images = Tensor::empty({n, kFashionMnistSide, kFashionMnistSide}, DType::u8);
  if (!images.data.empty()) {
    std::memcpy(data.images.data<uint8_t>(), images.data.data(), images.data.size());
  }
  data.labels = Tensor::empty({n}, DType::i64);
  int64_t* out = data.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t label = labels.data[static_cast<size_t>(i)];
    OSPREY_CHECK_KIND(io, label < kFashionMnistClasses,
                      "{}: label {} of example {} is outside [0, {}]", labels_path, label, i,
                      kFashionMnistClasses - 1);
    out[i] = label;
  }
  return data;
}

FashionMnistDataset::FashionMnistDataset(const std::string& directory, const std::string& split)
    : FashionMnistDataset(read_fashion_mnist(directory, split)) {}

FashionMnistDataset::FashionMnistDataset(FashionMnistData data) : data_(std::move(data)) {
  OSPREY_CHECK(data_.images.dtype() == DType::u8 && data_.images.dim() == 3 &&
                   data_.images.is_contiguous() && data_.labels.dtype() == DType::i64 &&
                   data_.labels.dim() == 1 && data_.labels.is_contiguous() &&
                   data_.labels.size(0) == data_.images.size(0),
               "FashionMnistDataset: expected contiguous u8 N×H×W images and i64 N labels, got {} "
               "and {}",
               data_.images.describe(), data_.labels.describe());
  size_ = data_.images.size(0);
  labels_ = data_.labels.data<int64_t>();
}

Example FashionMnistDataset::example(int64_t index) const {
  OSPREY_CHECK(index >= 0 && index < size_, "FashionMnistDataset: index {} outside [0, {})", index,
               size_);
  const int64_t h = data_.images.size(1), w = data_.images.size(2);
  // A view into the shared storage: no copy, and safe from any thread.
  Tensor image = Tensor::from_storage(data_.images.storage(), {1, h, w}, {h * w, w, 1},
                                      data_.images.offset() + index * h * w, DType::u8);
  return {std::move(image), labels_[index]};
}

const std::vector<std::string>& FashionMnistDataset::class_names() const {
  return fashion_mnist_class_names();
}

}  // namespace osprey::data
