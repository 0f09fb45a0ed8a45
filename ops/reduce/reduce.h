// Reductions. `dims` may be negative; an empty `dims` reduces every dim. With keepdim the reduced
// dims stay as size 1, otherwise they are removed. g below is the output gradient broadcast back
// to the input's shape.
//
//   sum(input; dims=[], keepdim=false)   Σ x                    d/dinput = g
//       floating inputs keep their dtype (accumulated in double); integer and bool inputs give i64.
//       Empty reductions give 0.
//   mean(input; dims=[], keepdim=false)  Σ x / N                d/dinput = g / N
//       floating inputs only; an empty reduction gives NaN (0/0).
//   var(input; dims=[], correction=1, keepdim=false)  Σ (x - mean)² / (N - correction)
//       d/dinput = 2 g (x - mean) / (N - correction). correction=1 is the unbiased estimate,
//       0 the population variance; N - correction <= 0 gives NaN/inf like PyTorch.
//   max(input; dim, keepdim=false) -> (values, indices)   min likewise
//       values[...] = the largest element along `dim`, indices[...] = its position (i64, not
//       differentiable). Ties: the first (lowest) index wins, and the whole gradient flows to that
//       element (g at indices, zero elsewhere). NaN counts as larger than everything (max) and
//       smaller than everything (min), i.e. a NaN in a slice is returned, at its first position,
//       as in PyTorch. Reducing an empty dim is an error.
//   argmax(input; dim, keepdim=false), argmin  the indices output of max / min alone (i64, not
//       differentiable).
// max/min/argmax/argmin/sum accept every numeric dtype on the CPU; mean and var need floats.
#pragma once

#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor sum(const Tensor& input, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& input, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor var(const Tensor& input, const std::vector<int64_t>& dims = {}, int64_t correction = 1,
           bool keepdim = false);
// (values, indices)
std::pair<Tensor, Tensor> max(const Tensor& input, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& input, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& input, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& input, int64_t dim, bool keepdim = false);

}  // namespace osprey::ops
