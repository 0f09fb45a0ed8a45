// Softmax along one dim, numerically stable (the row maximum is subtracted before exp, so large
// inputs never overflow).
//
//   softmax(input; dim)       y_i = exp(x_i - m) / Σ_j exp(x_j - m),  m = max_j x_j
//   log_softmax(input; dim)   y_i = x_i - m - log Σ_j exp(x_j - m)
//
// Their derivatives are ops of their own, so that they get fast and CUDA kernels:
//
//   softmax_backward(grad_output, output; dim)      dx = y (g - Σ_j g_j y_j)
//   log_softmax_backward(grad_output, output; dim)  dx = g - exp(y) Σ_j g_j
//
// Both backward ops are differentiable in both inputs (h: the incoming gradient):
//   softmax_backward:      d/dg = softmax_backward(h, y),  d/dy = h (g - Σ g y) - g Σ h y
//   log_softmax_backward:  d/dg = h - Σ h exp(y),          d/dy = -h exp(y) Σ g
// Floating inputs only. A slice that is all -inf, or holds inf or NaN, gives NaN (as PyTorch).
// A 0-d input is one slice of one element: softmax gives 1, log_softmax 0.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor softmax(const Tensor& input, int64_t dim = -1);
Tensor log_softmax(const Tensor& input, int64_t dim = -1);
Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim);
Tensor log_softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim);

}  // namespace osprey::ops
