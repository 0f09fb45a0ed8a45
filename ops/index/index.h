// Indexing ops. Index tensors are i64 (i32 accepted), never differentiable, and must hold values
// in [0, size) of the indexed dim; a bad value is an error naming the op, the argument and the
// value. Inputs may be any dtype on the reference kernels.
//
//   index_select(input, index; dim)  index 0-d or 1-d; out = input with dim resized to
//                     index.numel(), out[.., j, ..] = input[.., index[j], ..].
//                     d/dinput = scatter_add(zeros(input), index expanded to g, g; dim).
//   gather(input, index; dim)  index has input's rank and sizes <= input's outside dim;
//                     out has index's shape, out[p] = input[p with dim set to index[p]].
//                     d/dinput = scatter_add(zeros(input), index, g; dim).
//   scatter_add(input, index, src; dim)  index has input's rank, sizes <= src's everywhere and
//                     <= input's outside dim; out = clone(input), then
//                     out[p with dim set to index[p]] += src[p] for every position p of index.
//                     d/dinput = g; d/dsrc = gather(g, index; dim) (zero where index does not
//                     reach, when index is smaller than src).
//   masked_select(input, mask)  mask is bool (u8 accepted) and broadcasts with input; out is
//                     1-d: the elements of the broadcast input where the broadcast mask is true,
//                     in row-major order. d/dinput = the gradient scattered back to the
//                     selected positions (zeros elsewhere), summed over broadcast dims.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor index_select(const Tensor& input, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& input, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& input, int64_t dim, const Tensor& index, const Tensor& src);
Tensor masked_select(const Tensor& input, const Tensor& mask);

// Host-side pieces shared by the CPU and CUDA kernels.

// Calls fn.template operator()<I>() with I the C++ type of the index tensor (int64_t or int32_t).
template <typename Fn>
void with_index_type(const Tensor& index, Fn fn) {
  if (index.dtype() == DType::i32) {
    fn.template operator()<int32_t>();
  } else {
    fn.template operator()<int64_t>();
  }
}

// `strides` with the entry of `dim` zeroed: a walk skips the dim, the index value supplies it.
inline Shape without_dim(Shape strides, int64_t dim) {
  strides[dim] = 0;
  return strides;
}

// index_select's output shape: input's with `dim` resized to the number of indices.
inline Shape index_select_shape(Shape input_shape, int64_t dim, int64_t num_indices) {
  input_shape[dim] = num_indices;
  return input_shape;
}

}  // namespace osprey::ops
