// where(condition, input, other): input where condition is true, else other, with the three shapes
// broadcast together (NumPy rules). condition must be bool and is not differentiable; input and
// other share a dtype at the op boundary (the C++ function promotes).
//   d/dinput = g where condition, else 0      d/dother = g where !condition, else 0
// (each summed back to its input's shape).
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor where(const Tensor& condition, const Tensor& input, const Tensor& other);
// A scalar `other` (a 0-d tensor of input's dtype on input's device).
Tensor where(const Tensor& condition, const Tensor& input, double other);

}  // namespace osprey::ops
