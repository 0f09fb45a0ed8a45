// The window geometry shared by the pooling ops: attribute parsing, the checks PyTorch makes, the
// output size rule (see pool.h), and strided 4-d element access for the CPU kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "framework/core/macros.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops {

struct Pool2d {
  int64_t batch = 0, channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  Shape input_shape() const { return {batch, channels, in_h, in_w}; }
  Shape output_shape() const { return {batch, channels, out_h, out_w}; }
};

// Rows (or columns) of output along one dim; see pool.h for the ceil_mode rule.
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                         bool ceil_mode);

// Checks that `shape` is a 4-d image batch (only N may be 0); `what` names the argument.
void check_image_shape(const Shape& shape, const char* op, const char* what);

// Parses kernel_size, stride, padding, dilation (when present) and ceil_mode for an input of
// `input_shape`, checking them as PyTorch does; errors name the op and the input shape.
Pool2d pool2d_geometry(const dispatch::Attrs& attrs, const Shape& input_shape, const char* op);

// Checks that a backward op's grad_output has the shape its forward output had.
void check_grad_output(const Tensor& grad_output, const Shape& expected, const char* op);

// A 4-d integer list attribute (input_size); errors name op and attribute.
Shape image_size_attr(const dispatch::Attrs& attrs, const char* name, const char* op);

// adaptive_avg_pool2d's output shape [N, C, OH, OW] for `input` and its output_size attribute.
Shape adaptive_avg_pool2d_output_shape(const Shape& input, const dispatch::Attrs& attrs);

// Bin i of `out` over `in` elements: [floor(i*in/out), ceil((i+1)*in/out)) (host and device).
OSPREY_INLINE int64_t adaptive_bin_start(int64_t i, int64_t in, int64_t out) {
  return i * in / out;
}
OSPREY_INLINE int64_t adaptive_bin_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// body(p) for each of `planes` N*C planes, with OpenMP when the work (elements touched) is large.
// A function rather than an inline pragma: pragmas cannot sit inside OSPREY_DISPATCH_* lambdas.
template <typename Body>
void for_each_plane(int64_t planes, int64_t work, Body body) {
#pragma omp parallel for schedule(static) if (work > 4096)
  for (int64_t p = 0; p < planes; ++p) body(p);
}

// The running maximum of a max_pool2d window, for the CPU and CUDA kernels alike: the first
// element seeds the search; NaN wins over numbers, as in PyTorch (v != v: v is NaN). index stays
// -1 only if the window misses the input entirely.
template <typename T>
struct WindowMax {
  T best = static_cast<T>(-INFINITY);
  int64_t index = -1;
  OSPREY_INLINE void add(T v, int64_t at) {
    if (index < 0 || v > best || v != v) {
      best = v;
      index = at;
    }
  }
};

// Offset of element (n, c, h, w) of a 4-d tensor through its strides.
inline int64_t offset4(const Shape& strides, int64_t n, int64_t c, int64_t h, int64_t w) {
  return n * strides[0] + c * strides[1] + h * strides[2] + w * strides[3];
}

}  // namespace osprey::ops
