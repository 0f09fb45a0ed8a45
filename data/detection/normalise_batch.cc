#include "data/detection/normalise_batch.h"

#include "framework/core/error.h"
#include "ops/ops.h"

namespace osprey::data {

namespace {

// The three per-channel values of `values` (0, 1 or 3 of them; empty is `fallback`) as a
// 1×3×1×1 f32 tensor on `device`, each mapped through `f`.
template <typename F>
Tensor channel_values(const std::vector<float>& values, float fallback, Device device, const F& f,
                      const char* name) {
  OSPREY_CHECK(values.size() <= 1 || values.size() == 3,
               "normalise_batch: {} needs 0, 1 or 3 values, got {}", name, values.size());
  std::vector<float> out(3);
  for (size_t c = 0; c < 3; ++c) {
    out[c] = f(values.empty() ? fallback : values.size() == 1 ? values[0] : values[c]);
  }
  return Tensor::from_vector<float>(out, {1, 3, 1, 1}).to(device);
}

}  // namespace

Tensor normalise_batch(const Tensor& images, const std::vector<float>& mean,
                       const std::vector<float>& std, bool bgr, float value_scale,
                       const Tensor& image_sizes, float pad_value) {
  OSPREY_CHECK_KIND(shape, images.dim() == 4 && images.size(1) == 3,
                    "normalise_batch: images must be B×3×H×W, got {}", shape_str(images.shape()));
  OSPREY_CHECK_KIND(dtype, images.dtype() == DType::u8,
                    "normalise_batch: images must be u8, got {}", dtype_name(images.dtype()));
  for (float s : std)
    OSPREY_CHECK(s > 0, "normalise_batch: std entries must be positive, got {}", s);
  const Device device = images.device();
  Tensor x = images.to(DType::f32);
  if (bgr) {
    x = ops::index_select(x, 1, Tensor::from_vector<int64_t>({2, 1, 0}, {3}).to(device));
  }
  // The f32 mode's expression, (v · value_scale − mean) · (1 / std), in the same order.
  const Tensor means = channel_values(
      mean, 0.0f, device, [](float v) { return v; }, "mean");
  const Tensor inv_stds = channel_values(
      std, 1.0f, device, [](float v) { return 1.0f / v; }, "std");
  // A value_scale of 1 is skipped (v · 1 is v): one pass over the batch fewer.
  if (value_scale != 1.0f) x = ops::mul(x, Tensor::from_vector<float>({value_scale}, {1}, device));
  x = ops::mul(ops::sub(x, means), inv_stds);
  if (!image_sizes.defined()) return x;
  const int64_t batch = images.size(0), height = images.size(2), width = images.size(3);
  OSPREY_CHECK_KIND(shape,
                    image_sizes.dim() == 2 && image_sizes.size(0) == batch &&
                        image_sizes.size(1) == 2 && image_sizes.device() == device,
                    "normalise_batch: image_sizes must be {}×2 on {} (images {}), got {} on {}",
                    batch, device.str(), shape_str(images.shape()), shape_str(image_sizes.shape()),
                    image_sizes.device().str());
  const Tensor sizes = image_sizes.to(DType::i64);
  const Tensor rows = ops::arange(static_cast<double>(height), DType::i64, device);
  const Tensor cols = ops::arange(static_cast<double>(width), DType::i64, device);
  // 1 inside each image's valid area, 0 in its padding: B×1×H×1 times B×1×1×W.
  const Tensor row_valid =
      ops::lt(rows.reshape({1, 1, height, 1}), sizes.select(1, 0).reshape({batch, 1, 1, 1}))
          .to(DType::f32);
  const Tensor col_valid =
      ops::lt(cols.reshape({1, 1, 1, width}), sizes.select(1, 1).reshape({batch, 1, 1, 1}))
          .to(DType::f32);
  const Tensor valid = ops::mul(row_valid, col_valid);
  // x · 1 + pad · 0 is x and x · 0 + pad · 1 is pad, exactly (x is finite).
  x = ops::mul(x, valid);
  if (pad_value != 0.0f) x = ops::add(x, ops::affine(valid, -pad_value, pad_value));
  return x;
}

Tensor normalise_batch(const Tensor& images, const DetectionTransformConfig& config,
                       const Tensor& image_sizes) {
  return normalise_batch(images, config.mean, config.std, config.bgr, config.value_scale,
                         image_sizes, config.pad_value);
}

}  // namespace osprey::data
