// 2-d pooling over N x C x H x W images, with PyTorch's semantics and argument names. Inputs may
// be in any layout (contiguous NCHW, channels-last, or other strides); outputs are contiguous NCHW.
//
//   max_pool2d(input; kernel_size, stride=[] (= kernel_size), padding=[0,0], dilation=[1,1],
//              ceil_mode=false) -> (output, indices)
//       output[n,c,i,j] = max over the window rows i*sH - pH + a*dH (a < kH) and columns
//       j*sW - pW + b*dW (b < kW) that lie inside the input (padding never wins). indices (i64, not
//       differentiable) is the winner's flat position h*W + w inside its H x W plane, as PyTorch.
//       NaN wins over numbers. A dilated window that holds no input element gives -inf and index
//       -1 (no gradient). Gradient: grad_output is added back at indices
//       (max_pool2d_backward).
//   avg_pool2d(input; kernel_size, stride=[], padding=[0,0], ceil_mode=false,
//              count_include_pad=true) -> output
//       the window's sum over its positions inside the input, divided by the window's size clipped
//       to the padded input (count_include_pad) or by the number of positions inside the input.
//       Gradient: each output's grad / divisor spread over its window (avg_pool2d_backward).
//   adaptive_avg_pool2d(input; output_size) -> output
//       output[n,c,i,j] = mean of rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1 and the columns alike,
//       so bins cover the input and may overlap by one. output_size [1,1] is the global mean.
//       Gradient: adaptive_avg_pool2d_backward.
//
// The backward ops are linear in grad_output; each one's own gradient is its adjoint: a gather at
// indices for max_pool2d_backward, the forward pool for the two average pools.
//
// Sizes: every integer list takes one value (used for both dims) or two (H, W). The output size
// along a dim is floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1, or with ceil_mode the
// same rounded up, except that the last window must start inside the input or the left padding:
// a window that would start in the right padding is dropped (PyTorch's rule). padding may be at
// most half the kernel size, and the output must not be empty (errors name op and shapes). Only
// the batch may be empty.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

using IntList = std::vector<int64_t>;

std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, const IntList& kernel_size,
                                     const IntList& stride = {}, const IntList& padding = {0, 0},
                                     const IntList& dilation = {1, 1}, bool ceil_mode = false);
// The gradient of max_pool2d's input (shape input_size = [N, C, H, W]) from its output's.
Tensor max_pool2d_backward(const Tensor& grad_output, const Tensor& indices,
                           const IntList& input_size);

Tensor avg_pool2d(const Tensor& input, const IntList& kernel_size, const IntList& stride = {},
                  const IntList& padding = {0, 0}, bool ceil_mode = false,
                  bool count_include_pad = true);
Tensor avg_pool2d_backward(const Tensor& grad_output, const IntList& input_size,
                           const IntList& kernel_size, const IntList& stride = {},
                           const IntList& padding = {0, 0}, bool ceil_mode = false,
                           bool count_include_pad = true);

Tensor adaptive_avg_pool2d(const Tensor& input, const IntList& output_size);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const IntList& input_size);

}  // namespace osprey::ops
