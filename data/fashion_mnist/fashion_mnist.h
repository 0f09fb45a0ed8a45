// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 28×28 grey-scale images of clothing in 10 classes,
// 60000 for training and 10000 for testing, stored as four idx files (idx_file.h):
//   train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
//   t10k-labels-idx1-ubyte
// each either gzip'd (".gz", as Debian's `dataset-fashion-mnist` installs them under
// /usr/share/datasets/fashion-mnist) or plain; the ".gz" file is used when both exist.
//
// Reading checks magic numbers, 28×28 images, equal image and label counts and labels in [0, 9];
// every error is an io error naming the file and the reason, and a missing file names the package
// that provides it. Any number of examples is accepted (the tests read tiny files).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "framework/core/tensor.h"

namespace osprey::data {

inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistSide = 28;
inline constexpr int64_t kFashionMnistClasses = 10;
// Per-pixel mean and standard deviation of the training images scaled to [0, 1], for
// TransformConfig (transforms.h).
inline constexpr float kFashionMnistMean = 0.2860f;
inline constexpr float kFashionMnistStd = 0.3530f;

struct FashionMnistData {
  Tensor images;  // u8 N×28×28, contiguous
  Tensor labels;  // i64 N
};

// Reads split "train" or "test" (any other name is a value error listing both) from `directory`.
FashionMnistData read_fashion_mnist(const std::string& directory, const std::string& split);

// "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
// "Ankle boot", indexed by label.
const std::vector<std::string>& fashion_mnist_class_names();

// The split as a Dataset: example(i) is a 1×28×28 u8 view of image i (no copy) and its label.
class FashionMnistDataset : public Dataset {
 public:
  FashionMnistDataset(const std::string& directory, const std::string& split);
  explicit FashionMnistDataset(FashionMnistData data);

  int64_t size() const override { return size_; }
  Example example(int64_t index) const override;
  const std::vector<std::string>& class_names() const override;
  const FashionMnistData& data() const { return data_; }

 private:
  FashionMnistData data_;
  int64_t size_ = 0;
  const int64_t* labels_ = nullptr;
};

}  // namespace osprey::data
