#include "data/transforms.h"

#include <algorithm>

#include "data/sample_random.h"
#include "framework/core/error.h"

namespace osprey::data {

ClassificationTransform::ClassificationTransform(TransformConfig config)
    : config_(std::move(config)) {
  OSPREY_CHECK(config_.pad >= 0 && config_.crop >= 0,
               "transform: pad ({}) and crop ({}) must not be negative", config_.pad, config_.crop);
  for (float s : config_.std) {
    OSPREY_CHECK(s > 0, "transform: std entries must be positive, got {}", s);
  }
  const size_t entries = std::max<size_t>({config_.mean.size(), config_.std.size(), 1});
  OSPREY_CHECK(config_.mean.size() <= 1 || config_.std.size() <= 1 ||
                   config_.mean.size() == config_.std.size(),
               "transform: {} mean values but {} std values", config_.mean.size(),
               config_.std.size());
  for (size_t e = 0; e < entries; ++e) {
    std::vector<float> table(256);
    const float mean = mean_of(static_cast<int64_t>(e)), inv_std = 1.0f / std_of(e);
    for (int v = 0; v < 256; ++v) table[v] = (static_cast<float>(v) / 255.0f - mean) * inv_std;
    u8_table_.push_back(std::move(table));
  }
}

float ClassificationTransform::mean_of(int64_t channel) const {
  if (config_.mean.empty()) return 0.0f;
  return config_.mean.size() == 1 ? config_.mean[0] : config_.mean[static_cast<size_t>(channel)];
}

float ClassificationTransform::std_of(int64_t channel) const {
  if (config_.std.empty()) return 1.0f;
  return config_.std.size() == 1 ? config_.std[0] : config_.std[static_cast<size_t>(channel)];
}

Shape ClassificationTransform::output_shape(const Shape& image_shape) const {
  OSPREY_CHECK_KIND(shape, image_shape.size() == 3, "transform: expected a C×H×W image, got {}",
                    shape_str(image_shape));
  const int64_t channels = image_shape[0];
  for (size_t n : {config_.mean.size(), config_.std.size()}) {
    OSPREY_CHECK_KIND(shape, n <= 1 || static_cast<int64_t>(n) == channels,
                      "transform: {} mean/std values for an image of {} channels ({})", n, channels,
                      shape_str(image_shape));
  }
  const int64_t ph = image_shape[1] + 2 * config_.pad, pw = image_shape[2] + 2 * config_.pad;
  if (config_.crop == 0) return {channels, ph, pw};
  OSPREY_CHECK_KIND(shape, config_.crop <= ph && config_.crop <= pw,
                    "transform: crop {} is larger than the padded image {}x{} (image {}, pad {})",
                    config_.crop, ph, pw, shape_str(image_shape), config_.pad);
  return {channels, config_.crop, config_.crop};
}

TransformChoice ClassificationTransform::choose(uint64_t seed, int64_t epoch, int64_t index,
                                                const Shape& image_shape) const {
  const Shape out = output_shape(image_shape);
  const int64_t spare_h = image_shape[1] + 2 * config_.pad - out[1];
  const int64_t spare_w = image_shape[2] + 2 * config_.pad - out[2];
  TransformChoice choice{spare_h / 2, spare_w / 2, false};
  if (!config_.random_crop && !config_.flip) return choice;
  random::PhiloxBlock bits = sample_random_block(seed, RandomStream::transform, epoch, index);
  if (config_.random_crop) {
    choice.top = static_cast<int64_t>(uniform_below(bits.v[0], static_cast<uint64_t>(spare_h + 1)));
    choice.left =
        static_cast<int64_t>(uniform_below(bits.v[1], static_cast<uint64_t>(spare_w + 1)));
  }
  choice.flip = config_.flip && (bits.v[2] >> 31) != 0;
  return choice;
}

Tensor ClassificationTransform::apply(const Tensor& image, const TransformChoice& choice) const {
  Tensor out = Tensor::empty(output_shape(image.shape()), DType::f32);
  apply_into(image, choice, out.data<float>());
  return out;
}

Tensor ClassificationTransform::apply(const Tensor& image, uint64_t seed, int64_t epoch,
                                      int64_t index) const {
  return apply(image, choose(seed, epoch, index, image.shape()));
}

namespace {

// One output plane. `value(v)` normalises a source value; source column sx of row sy sits at
// src[sy * sh + sx * sw]. Out-of-image positions take `zero`, the normalised padding.
template <typename T, typename Normalise>
void transform_plane(const T* src, int64_t h, int64_t w, int64_t sh, int64_t sw, int64_t oh,
                     int64_t ow, int64_t row0, int64_t col0, bool flip, float zero,
                     const Normalise& value, float* out) {
  for (int64_t y = 0; y < oh; ++y, out += ow) {
    const int64_t sy = row0 + y;
    if (sy < 0 || sy >= h) {
      std::fill(out, out + ow, zero);
      continue;
    }
    const T* row = src + sy * sh;
    // Output column x reads source column col0 + x (or col0 + ow - 1 - x when flipped); only the
    // columns that land inside the image read memory.
    for (int64_t x = 0; x < ow; ++x) {
      const int64_t sx = flip ? col0 + ow - 1 - x : col0 + x;
      out[x] = (sx >= 0 && sx < w) ? value(row[sx * sw]) : zero;
    }
  }
}

}  // namespace

void ClassificationTransform::apply_into(const Tensor& image, const TransformChoice& choice,
                                         float* out) const {
  OSPREY_CHECK_KIND(device, image.device().is_cpu(), "transform: image {} is not on the CPU",
                    image.describe());
  const Shape out_shape = output_shape(image.shape());
  const int64_t channels = out_shape[0], oh = out_shape[1], ow = out_shape[2];
  const int64_t h = image.size(1), w = image.size(2);
  OSPREY_CHECK(choice.top >= 0 && choice.left >= 0 && choice.top + oh <= h + 2 * config_.pad &&
                   choice.left + ow <= w + 2 * config_.pad,
               "transform: crop window {}x{} at ({}, {}) leaves the padded image {}x{}", oh, ow,
               choice.top, choice.left, h + 2 * config_.pad, w + 2 * config_.pad);
  const int64_t row0 = choice.top - config_.pad, col0 = choice.left - config_.pad;
  const int64_t sc = image.stride(0), sh = image.stride(1), sw = image.stride(2);
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = out + c * oh * ow;
    const size_t entry = u8_table_.size() == 1 ? 0 : static_cast<size_t>(c);
    if (image.dtype() == DType::u8) {
      const float* table = u8_table_[entry].data();
      transform_plane(
          image.data<uint8_t>() + c * sc, h, w, sh, sw, oh, ow, row0, col0, choice.flip, table[0],
          [table](uint8_t v) { return table[v]; }, plane);
    } else if (image.dtype() == DType::f32) {
      const float mean = mean_of(c), inv_std = 1.0f / std_of(c);
      transform_plane(
          image.data<float>() + c * sc, h, w, sh, sw, oh, ow, row0, col0, choice.flip,
          -mean * inv_std, [=](float v) { return (v - mean) * inv_std; }, plane);
    } else {
      OSPREY_THROW(dtype, "transform: images must be u8 or f32, got {}", image.describe());
    }
  }
}

}  // namespace osprey::data
