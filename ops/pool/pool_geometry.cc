// Pooling geometry: attribute parsing and the checks PyTorch makes (see pool_geometry.h).
#include "ops/pool/pool_geometry.h"

#include <tuple>
#include <utility>
#include <vector>

#include "framework/core/error.h"

namespace osprey::ops {
namespace {

// One value (both dims) or two (H, W); an empty list means `fallback` when one is given.
std::pair<int64_t, int64_t> pair_attr(const dispatch::Attrs& attrs, const char* name,
                                      const char* op, const std::pair<int64_t, int64_t>* fallback) {
  std::vector<int64_t> v = attrs.get_ints(name);
  if (v.empty() && fallback) return *fallback;
  OSPREY_CHECK(v.size() == 1 || v.size() == 2, "{}: {} must have 1 or 2 values, got {}", op, name,
               v.size());
  return {v[0], v.size() == 2 ? v[1] : v[0]};
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                         bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;  // the window does not fit even once
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  // Rounding up may add a window that starts in the right padding; PyTorch drops it.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

void check_image_shape(const Shape& shape, const char* op, const char* what) {
  OSPREY_CHECK_KIND(shape, shape.size() == 4, "{}: {} must be 4-d (N, C, H, W), got shape {}", op,
                    what, shape_str(shape));
  OSPREY_CHECK_KIND(shape, shape[1] > 0 && shape[2] > 0 && shape[3] > 0,
                    "{}: {} {} must have non-zero C, H and W (only the batch may be empty)", op,
                    what, shape_str(shape));
}

Pool2d pool2d_geometry(const dispatch::Attrs& attrs, const Shape& input_shape, const char* op) {
  check_image_shape(input_shape, op, "input");
  Pool2d g;
  g.batch = input_shape[0];
  g.channels = input_shape[1];
  g.in_h = input_shape[2];
  g.in_w = input_shape[3];
  auto kernel = pair_attr(attrs, "kernel_size", op, nullptr);
  auto stride = pair_attr(attrs, "stride", op, &kernel);
  const std::pair<int64_t, int64_t> zero{0, 0}, one{1, 1};
  auto pad = attrs.has("padding") ? pair_attr(attrs, "padding", op, &zero) : zero;
  auto dilation = attrs.has("dilation") ? pair_attr(attrs, "dilation", op, &one) : one;
  std::tie(g.kernel_h, g.kernel_w) = kernel;
  std::tie(g.stride_h, g.stride_w) = stride;
  std::tie(g.pad_h, g.pad_w) = pad;
  std::tie(g.dilation_h, g.dilation_w) = dilation;
  OSPREY_CHECK(g.kernel_h > 0 && g.kernel_w > 0, "{}: kernel_size must be positive, got ({}, {})",
               op, g.kernel_h, g.kernel_w);
  OSPREY_CHECK(g.stride_h > 0 && g.stride_w > 0, "{}: stride must be positive, got ({}, {})", op,
               g.stride_h, g.stride_w);
  OSPREY_CHECK(g.dilation_h > 0 && g.dilation_w > 0, "{}: dilation must be positive, got ({}, {})",
               op, g.dilation_h, g.dilation_w);
  OSPREY_CHECK(g.pad_h >= 0 && g.pad_w >= 0, "{}: padding must be non-negative, got ({}, {})", op,
               g.pad_h, g.pad_w);
  OSPREY_CHECK(g.pad_h <= g.kernel_h / 2 && g.pad_w <= g.kernel_w / 2,
               "{}: padding ({}, {}) must be at most half of kernel_size ({}, {})", op, g.pad_h,
               g.pad_w, g.kernel_h, g.kernel_w);
  const bool ceil_mode = attrs.get_bool("ceil_mode");
  g.out_h = pool_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, ceil_mode);
  g.out_w = pool_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, ceil_mode);
  OSPREY_CHECK_KIND(shape, g.out_h > 0 && g.out_w > 0,
                    "{}: kernel_size ({}, {}) with dilation ({}, {}) is larger than input {} "
                    "padded by ({}, {}): the output would be {}x{}",
                    op, g.kernel_h, g.kernel_w, g.dilation_h, g.dilation_w, shape_str(input_shape),
                    g.pad_h, g.pad_w, g.out_h, g.out_w);
  return g;
}

void check_grad_output(const Tensor& grad_output, const Shape& expected, const char* op) {
  OSPREY_CHECK_KIND(shape, grad_output.shape() == expected,
                    "{}: grad_output {} must have the forward output's shape {}", op,
                    grad_output.describe(), shape_str(expected));
}

Shape image_size_attr(const dispatch::Attrs& attrs, const char* name, const char* op) {
  Shape size = attrs.get_ints(name);
  OSPREY_CHECK(size.size() == 4, "{}: {} must be [N, C, H, W], got {}", op, name, shape_str(size));
  check_image_shape(size, op, name);
  return size;
}

}  // namespace osprey::ops
