// Sorting along one dim.
//
//   sort(input; dim=-1, descending=false, stable=true) -> (values, indices)
//       values = input's elements along `dim` in ascending (or descending) order; indices (i64,
//       not differentiable) their positions in input, so values = take_along_dim(input, indices).
//   topk(input; k, dim=-1, largest=true, sorted=true) -> (values, indices)
//       the k largest (or smallest) elements along `dim` and their positions; 0 <= k <= size.
//
// Order: NaN sorts as the largest value (last in ascending order, first in descending order and
// among the largest for topk), as in PyTorch. Equal elements keep their input order, in both
// directions, so every sort is stable and the results are deterministic; `stable=false` and
// `sorted=false` are accepted and give the same (sorted, stable) result.
// Gradient: g flows back to the positions in `indices` (index_scatter_grad); elements topk leaves
// out get zero. Every numeric dtype on the CPU (f16/bf16 compared in float).
#pragma once

#include <utility>

#include "framework/core/tensor.h"

namespace osprey::ops {

std::pair<Tensor, Tensor> sort(const Tensor& input, int64_t dim = -1, bool descending = false,
                               bool stable = true);
std::pair<Tensor, Tensor> topk(const Tensor& input, int64_t k, int64_t dim = -1,
                               bool largest = true, bool sorted = true);

}  // namespace osprey::ops
