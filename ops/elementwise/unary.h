// Element-wise math on one tensor. Gradients (g = grad_output):
//
//   exp(input)               d/dinput = g * output
//   log(input)               d/dinput = g / input
//   sqrt(input)              d/dinput = g / (2 * output)
//   abs(input)               d/dinput = g * sign(input)          (0 at input == 0, like PyTorch)
//   sign(input)              -1, 0 or +1 (NaN stays NaN); not differentiable (zero a.e.)
//   pow(input; exponent)     input^exponent, scalar exponent
//                            d/dinput = g * exponent * input^(exponent - 1)  (0 when exponent == 0)
//   clamp(input; min=-inf, max=+inf)  min(max(input, min), max); with min > max every value is
//                            max (PyTorch). NaN stays NaN. Integral dtypes clamp too.
//                            d/dinput = g where min <= input <= max, else 0 (bounds inclusive,
//                            PyTorch's convention), computed by the op
//   clamp_backward(grad_output, input; min, max)
//
// exp, log, sqrt and pow need a floating input at the op boundary; the C++ functions convert
// integral inputs to f32 first (PyTorch promotes the same way). abs, sign and clamp keep the dtype.
#pragma once

#include <limits>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor exp(const Tensor& input);
Tensor log(const Tensor& input);
Tensor sqrt(const Tensor& input);
Tensor abs(const Tensor& input);
Tensor sign(const Tensor& input);
Tensor pow(const Tensor& input, double exponent);
Tensor clamp(const Tensor& input, double min = -std::numeric_limits<double>::infinity(),
             double max = std::numeric_limits<double>::infinity());
Tensor clamp_min(const Tensor& input, double min);
Tensor clamp_max(const Tensor& input, double max);

}  // namespace osprey::ops
