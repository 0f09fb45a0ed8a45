// Element-wise binary math with broadcasting; inputs share a dtype at the op boundary (the C++
// functions promote). Gradients of broadcast inputs are summed back to the input's shape.
//
//   maximum(input, other)    larger of the two; NaN if either is NaN. Any numeric dtype.
//   minimum(input, other)    smaller of the two; NaN if either is NaN.
//     Gradient at ties (input == other): split half/half between the two inputs, like PyTorch,
//     so the gradients of input and other always add up to g. Away from ties g goes entirely to
//     the selected input. Computed by the op
//       maximum_backward(grad_output, input, other) = g * (1 if input > other,
//                                                          1/2 if input == other, else 0)
//     which serves all four gradients: maximum's are maximum_backward(g, input, other) and
//     maximum_backward(g, other, input); minimum's swap the arguments.
//   pow_tensor(input, exponent)   input^exponent (floating dtypes)
//     d/dinput = g * exponent * input^(exponent - 1)
//     d/dexponent = g * output * log(input), taken as 0 where input == 0 (PyTorch's convention)
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor maximum(const Tensor& input, const Tensor& other);
Tensor minimum(const Tensor& input, const Tensor& other);
Tensor pow_tensor(const Tensor& input, const Tensor& exponent);

}  // namespace osprey::ops
