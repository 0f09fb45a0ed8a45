// 2-d convolution (PyTorch's conv2d: really a cross-correlation) and its two gradients as ops.
//
//   conv2d(input, weight, bias?; stride=[1,1], padding=[0,0], dilation=[1,1], groups=1)
//     input  N × C × H × W,  weight O × (C/groups) × kH × kW,  bias O (optional)
//     output N × O × Ho × Wo,  Ho = (H + 2 pH - dH (kH - 1) - 1) / sH + 1  (floor; likewise Wo)
//     y[n,o,i,j] = b[o] + Σ_{c,p,q} x[n, g Cg + c, i sH - pH + p dH, j sW - pW + q dW] w[o,c,p,q]
//   with Cg = C/groups, g = o / (O/groups) the group of output channel o, and x read as 0 outside
//   the image (zero padding). Each of stride, padding, dilation takes one int for both dims.
//
// Gradients (g: grad_output). The convolution is linear in x and in w, so each gradient is the
// adjoint map, declared as an op of its own so that it gets its own fast kernels:
//   d/dinput  = conv2d_backward_input(g, w; input_size, ...)
//               dx[n, g Cg + c, h, v] = Σ_{o in group, p, q} g[n,o,i,j] w[o,c,p,q]
//               over the (i, j) with i sH - pH + p dH = h and j sW - pW + q dW = v
//   d/dweight = conv2d_backward_weight(g, x; weight_size, ...)
//               dw[o,c,p,q] = Σ_{n,i,j} g[n,o,i,j] x[n, g Cg + c, i sH - pH + p dH, j sW - pW + q
//               dW]
//   d/dbias   = Σ_{n,i,j} g[n,o,i,j]  (sum over dims 0, 2, 3)
// input_size / weight_size are needed because a stride > 1 may have dropped trailing rows and
// columns, which then get a zero gradient.
// Both backward ops are bilinear too; their own derivatives (h: the incoming gradient):
//   conv2d_backward_input:  d/dg = conv2d(h, w),  d/dw = conv2d_backward_weight(g, h)
//   conv2d_backward_weight: d/dg = conv2d(x, h),  d/dx = conv2d_backward_input(g, h)
// Inputs may have any strides (NCHW, channels-last, views). The output of conv2d and of
// conv2d_backward_input is channels-last when the (first image) input is, else contiguous NCHW.
#pragma once

#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              const std::vector<int64_t>& stride = {1, 1},
              const std::vector<int64_t>& padding = {0, 0},
              const std::vector<int64_t>& dilation = {1, 1}, int64_t groups = 1);
Tensor conv2d_backward_input(const Tensor& grad_output, const Tensor& weight,
                             const std::vector<int64_t>& input_size,
                             const std::vector<int64_t>& stride,
                             const std::vector<int64_t>& padding,
                             const std::vector<int64_t>& dilation, int64_t groups);
Tensor conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                              const std::vector<int64_t>& weight_size,
                              const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding,
                              const std::vector<int64_t>& dilation, int64_t groups);

}  // namespace osprey::ops
