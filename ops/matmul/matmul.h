// Matrix products.
//
//   matmul(input, other)  PyTorch's matmul. Operands of rank >= 2 are batches of matrices whose
//                         leading (batch) dims broadcast: [..., m, k] x [..., k, n] -> [..., m, n].
//                         A 1-d input is a row vector ([k] -> [1, k], the 1 removed from the
//                         result); a 1-d other is a column vector ([k] -> [k, 1], likewise), so
//                         1-d x 1-d is a dot product (0-d result).
//                         d/dinput = matmul(g, other^T) summed over broadcast batch dims,
//                         d/dother = matmul(input^T, g) likewise (^T swaps the last two dims).
//   bmm(input, mat2)      [b, m, k] x [b, k, n] -> [b, m, n], no broadcasting.
//                         d/dinput = bmm(g, mat2^T), d/dmat2 = bmm(input^T, g).
//   linear(input, weight, bias?)  input [..., in], weight [out, in], bias [out] (optional):
//                         input @ weight^T + bias -> [..., out]. d/dinput = matmul(g, weight),
//                         d/dweight = g^T @ input (batch dims flattened), d/dbias = g summed
//                         over every dim but the last.
// Operands must share a floating dtype at the op boundary; the C++ functions promote. An empty
// contraction (k = 0) gives zeros. Kernels: cpu/reference (double accumulation) and cpu/openblas.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor matmul(const Tensor& input, const Tensor& other);
Tensor bmm(const Tensor& input, const Tensor& mat2);
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace osprey::ops
