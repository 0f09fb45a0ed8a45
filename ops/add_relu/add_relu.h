// add_relu: the residual join of a ResNet block, relu(input + other), as one op.
//
//   output = max(input + other, 0)       floating dtypes; input and other share a dtype and
//                                         broadcast (NumPy rules) like add
//   With g = grad_output and the mask taken from the saved output (PyTorch's relu convention:
//   no gradient where the sum is exactly 0):
//     g'           = threshold_backward(g, output; 0) = g where output > 0, else 0
//     grad_input   = sum_to(g', input.shape)
//     grad_other   = sum_to(g', other.shape)
//   Against add then relu this saves a read and a write of the activation (and one
//   activation-sized tensor) in the forward pass; the backward is the same mask either way.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

// relu(input + other); promotes to a common dtype first, like add.
Tensor add_relu(const Tensor& input, const Tensor& other);

}  // namespace osprey::ops
