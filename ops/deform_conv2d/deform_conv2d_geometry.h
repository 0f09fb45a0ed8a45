// The sizes and attributes of one deformable convolution, read once and shared by the op
// definitions and every kernel; the layout rule of the kernels' outputs; and the bilinear sampling
// rule of the fast kernels (CPU and CUDA, OSPREY_INLINE; the reference kernel spells the rule out
// on its own, so the two are checked against each other).
#pragma once

#include <cstdint>

#include "framework/core/macros.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {

enum class DeformBoundary { torchvision, mxnet_v1 };

struct DeformGeometry {
  ConvGeometry conv;
  DeformBoundary boundary;
  int64_t N, C, H, W;     // input
  int64_t O, Cg, kH, kW;  // weight O × Cg × kH × kW
  int64_t Ho, Wo;
  int64_t taps;           // kH·kW
  int64_t offset_groups;  // G
  int64_t Coff;           // input channels per offset group, C / G

  // Reads the attributes and checks input (N×C×H×W), weight (O×C/groups×kH×kW) and the offset's
  // channel count (2·G·kH·kW); errors name `op`, the argument and the shapes.
  static DeformGeometry from(const dispatch::Attrs& attrs, const Shape& input, const Shape& weight,
                             const Shape& offset, const char* op);
  Shape output_shape() const { return {N, O, Ho, Wo}; }
  Shape offset_shape() const { return {N, 2 * offset_groups * taps, Ho, Wo}; }
  Shape mask_shape() const { return {N, offset_groups * taps, Ho, Wo}; }
};

// The layout of the output that mirrors `t` (input or grad_input): channels-last when t is, else
// contiguous.
inline MemoryFormat deform_layout(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

// A contiguous tensor to compute `out` in (out itself when contiguous); store_dense copies it in.
inline Tensor dense_like(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
}
inline void store_dense(const Tensor& result, Tensor& out) {
  if (!result.is_same(out)) out.copy_(result);
}

// Where one sample falls: its top-left corner (y0, x0), the fractional parts (ly, lx) and whether
// the value moves with y and x (false where mxnet_v1 clamps to the last row / column, which also
// sets ly / lx to 0). The bottom-right corner is (y0 + 1, x0 + 1), read with weight 0 where
// clamped. Corners outside [0, H) × [0, W) read 0 (y0 and x0 may be -1 under the torchvision rule,
// and y0 + 1 = H or x0 + 1 = W under either rule). `valid` false: the sample is 0, with no
// gradient.
template <typename T>
struct BilinearCell {
  bool valid = false;
  int64_t y0 = 0, x0 = 0;
  T ly = T(0), lx = T(0);
  bool y_moves = false, x_moves = false;
};

template <typename T>
OSPREY_INLINE int64_t floor_index(T v) {
  const auto i = static_cast<int64_t>(v);
  return static_cast<T>(i) > v ? i - 1 : i;
}

// The sampling rule of deform_conv2d.h for a sample at (y, x) of an H×W map.
template <typename T>
OSPREY_INLINE BilinearCell<T> bilinear_cell(T y, T x, int64_t H, int64_t W, bool mxnet_v1) {
  BilinearCell<T> c;
  const T zero(0), one(1);
  if (mxnet_v1 ? !(y >= zero && y < T(H) && x >= zero && x < T(W))
               : !(y > -one && y < T(H) && x > -one && x < T(W))) {
    return c;
  }
  c.valid = true;
  c.y0 = floor_index(y);
  c.x0 = floor_index(x);
  c.y_moves = !mxnet_v1 || c.y0 < H - 1;
  c.x_moves = !mxnet_v1 || c.x0 < W - 1;
  if (!c.y_moves) c.y0 = H - 1;
  if (!c.x_moves) c.x0 = W - 1;
  c.ly = c.y_moves ? y - T(c.y0) : zero;
  c.lx = c.x_moves ? x - T(c.x0) : zero;
  return c;
}

// The interpolation weights of a valid cell's corners (y0, x0), (y0, x0 + 1), (y0 + 1, x0) and
// (y0 + 1, x0 + 1).
template <typename T>
OSPREY_INLINE void bilinear_weights(const BilinearCell<T>& c, T w[4]) {
  const T hy = T(1) - c.ly, hx = T(1) - c.lx;
  w[0] = hy * hx;
  w[1] = hy * c.lx;
  w[2] = c.ly * hx;
  w[3] = c.ly * c.lx;
}

// The four corners of one bilinear sample as flat indices y·W + x into an H×W plane, with their
// interpolation weights and the weights' derivatives along y and x. Unused corners (outside the
// map, or clamped away) have index 0 and all-zero weights, so loops need no branches.
template <typename T>
struct BilinearCorners {
  int64_t index[4];
  T weight[4];
  T dweight_dy[4];
  T dweight_dx[4];
};

template <typename T>
OSPREY_INLINE BilinearCorners<T> bilinear_corners(T y, T x, int64_t H, int64_t W, bool mxnet_v1) {
  BilinearCorners<T> s{};
  const BilinearCell<T> c = bilinear_cell(y, x, H, W, mxnet_v1);
  if (!c.valid) return s;
  const T one(1), zero(0);
  const T ly = c.ly, lx = c.lx, hy = one - ly, hx = one - lx;
  const int64_t rows[4] = {c.y0, c.y0, c.y0 + 1, c.y0 + 1};
  const int64_t cols[4] = {c.x0, c.x0 + 1, c.x0, c.x0 + 1};
  T w[4];
  bilinear_weights(c, w);
  const T dy[4] = {-hx, -lx, hx, lx}, dx[4] = {-hy, hy, -ly, ly};
  for (int t = 0; t < 4; ++t) {
    if (rows[t] < 0 || rows[t] >= H || cols[t] < 0 || cols[t] >= W) continue;
    s.index[t] = rows[t] * W + cols[t];
    s.weight[t] = w[t];
    s.dweight_dy[t] = c.y_moves ? dy[t] : zero;
    s.dweight_dx[t] = c.x_moves ? dx[t] : zero;
  }
  return s;
}

}  // namespace osprey::ops
