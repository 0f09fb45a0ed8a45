// The backward of ops whose outputs pick input elements along one dim by index (max, min, sort,
// topk), and its adjoint. Both are private helpers of this folder's and ops/reduce's backward
// formulas (a general gather / scatter_add lives elsewhere).
//
//   index_scatter_grad(grad, indices; dim, size)
//       zeros of grad's shape with `size` at `dim`, then for every element i of grad
//       out[i_0, ..., indices[i], ..., i_n] += grad[i]    (indices[i] replaces i_dim).
//       indices: i64 of grad's shape, values in [0, size); repeats accumulate.
//       d/dgrad = index_gather_grad(h, indices; dim).
//   index_gather_grad(input, indices; dim)
//       out[i] = input[i_0, ..., indices[i], ..., i_n]; out has indices' shape, which equals
//       input's except at dim.  d/dinput = index_scatter_grad(h, indices; dim, input.size(dim)).
// `indices` is not differentiable. Each op is the derivative of the other, so both are
// gradient-checked and max/min/sort/topk are ready for double backward.
#pragma once

#include "framework/core/tensor.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

Tensor index_scatter_grad(const Tensor& grad, const Tensor& indices, int64_t dim, int64_t size);
Tensor index_gather_grad(const Tensor& input, const Tensor& indices, int64_t dim);

// The output shape of an index_scatter_grad call, for every device's kernel: grad's shape with
// the `size` attribute at `dim`. `dim` comes back wrapped.
Shape index_scatter_grad_shape(const KernelContext& ctx, int64_t& dim);

}  // namespace osprey::ops
