// index_scatter_grad(grad, indices; dim, size): the backward of ops whose outputs pick elements
// of their input along one dim by index (max, min, sort, topk). The output has grad's shape with
// `size` at `dim`, is zero except that
//     out[i_0, ..., indices[i], ..., i_n] += grad[i]     (indices[i] replaces i_dim)
// for every element i of grad (indices has grad's shape, i64 values in [0, size)). Repeated
// indices accumulate. `indices` is not differentiable; the op itself has no derivative (no double
// backward through max/sort/topk).
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor index_scatter_grad(const Tensor& grad, const Tensor& indices, int64_t dim, int64_t size);

}  // namespace osprey::ops
