// The augmentation of classification images, fused into one pass: zero padding, a crop (random or
// centred), a random horizontal flip and per-channel mean/std normalisation, written straight into
// the loader's batch memory. One pass with no intermediate tensors is what keeps a Fashion-MNIST
// epoch well under a second on one core.
//
// Order of operations, as in torchvision's RandomCrop(padding) → RandomHorizontalFlip → ToTensor →
// Normalize: the C×H×W image is padded with `pad` zero pixels on every side, a crop×crop window is
// taken at (top, left) of the padded image, mirrored left-right when `flip` is drawn, and each
// value x becomes (x - mean[c]) / std[c], where u8 pixels are first scaled to [0, 1] (x = v / 255)
// and f32 pixels are taken as they are. Padding is zero before normalisation, i.e. (0 - mean) / std
// after.
//
// The random choices of a sample are a pure function of (seed, epoch, dataset index), see
// sample_random.h.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::data {

struct TransformConfig {
  int64_t pad = 0;            // zero pixels added on each side before cropping
  int64_t crop = 0;           // side of the square crop; 0 keeps the padded height and width
  bool random_crop = true;    // offsets uniform over the padded image; false: the centred window
  bool flip = false;          // mirror left-right with probability 1/2
  std::vector<float> mean{};  // per channel, or one value for every channel; empty means 0
  std::vector<float> std{};   // likewise; empty means 1; entries must be positive
};

// Where the crop window lies in the padded image and whether it is mirrored.
struct TransformChoice {
  int64_t top = 0;
  int64_t left = 0;
  bool flip = false;
  bool operator==(const TransformChoice&) const = default;
};

class ClassificationTransform {
 public:
  // The identity on f32 images (u8 images are only scaled to [0, 1]).
  ClassificationTransform() : ClassificationTransform(TransformConfig{}) {}
  explicit ClassificationTransform(TransformConfig config);

  const TransformConfig& config() const { return config_; }
  // C×H×W → C×crop×crop (or C×(H+2·pad)×(W+2·pad) without a crop); errors name the shapes.
  Shape output_shape(const Shape& image_shape) const;
  // The choice for dataset index `index` in `epoch`: crop offsets uniform in
  // [0, padded - crop] (or centred when random_crop is false), flip with probability 1/2 if
  // enabled.
  TransformChoice choose(uint64_t seed, int64_t epoch, int64_t index,
                         const Shape& image_shape) const;

  // A new contiguous f32 tensor of output_shape(image.shape()).
  Tensor apply(const Tensor& image, const TransformChoice& choice) const;
  Tensor apply(const Tensor& image, uint64_t seed, int64_t epoch, int64_t index) const;
  // Writes the output_shape(image.shape()) values, row-major, to `out`. `image` is a CPU C×H×W
  // tensor of u8 or f32 with any strides.
  void apply_into(const Tensor& image, const TransformChoice& choice, float* out) const;

 private:
  float mean_of(int64_t channel) const;
  float std_of(int64_t channel) const;
  TransformConfig config_;
  // Per distinct (mean, std) entry: the normalised value of each u8 pixel value.
  std::vector<std::vector<float>> u8_table_;
};

}  // namespace osprey::data
