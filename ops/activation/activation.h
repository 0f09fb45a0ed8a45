// Activation functions. Each derivative is its own op (a "backward op") taking what the efficient
// formula needs, so a device can swap in a fused kernel without changing the graph; the backward
// ops are linear in grad_output and differentiable for double backward. g = grad_output.
//
//   relu(input) = max(input, 0)             any numeric dtype
//       d/dinput = threshold_backward(g, output; threshold=0) = g where output > 0, else 0
//       (0 at input == 0, PyTorch's convention)
//   threshold_backward(grad_output, input; threshold=0) = g where input > threshold, else 0
//       input only selects (not differentiable)
//   sigmoid(input) = 1 / (1 + e^-input)     floating dtypes; computed without overflow for
//                                           large |input|
//       d/dinput = sigmoid_backward(g, output) = g * output * (1 - output)
//   tanh(input)                             floating dtypes
//       d/dinput = tanh_backward(g, output) = g * (1 - output^2)
//   softplus(input; beta=1, threshold=20) = log(1 + e^(beta*input)) / beta, and input itself
//       where beta*input > threshold (PyTorch semantics: linear above the threshold)
//       d/dinput = softplus_backward(g, input; beta, threshold)
//                = g * sigmoid(beta*input), and g where beta*input > threshold
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor relu(const Tensor& input);
Tensor sigmoid(const Tensor& input);
Tensor tanh(const Tensor& input);
Tensor softplus(const Tensor& input, double beta = 1.0, double threshold = 20.0);

Tensor threshold_backward(const Tensor& grad_output, const Tensor& input, double threshold = 0.0);
Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output);
Tensor tanh_backward(const Tensor& grad_output, const Tensor& output);
Tensor softplus_backward(const Tensor& grad_output, const Tensor& input, double beta = 1.0,
                         double threshold = 20.0);

}  // namespace osprey::ops
