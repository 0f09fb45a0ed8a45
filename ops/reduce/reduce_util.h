// Shared pieces of the reduction ops (sum, mean, var, max, min, argmax, argmin) and of the ops that
// work along one dim (softmax, sort, topk): dim normalisation with errors naming the op, reduced
// shapes, the broadcast of a reduced gradient back to the input, a CPU view of the input as rows
// and a case-list helper for inputs without ties.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"
#include "ops/common/case_helpers.h"
#include "ops/common/cpu_loops.h"

namespace osprey::ops {

// Wrapped, sorted, de-duplicated dims; an empty list means every dim. A 0-d tensor accepts dim 0
// or -1 (and reduces to itself). Out-of-range and repeated dims throw naming `op`.
std::vector<int64_t> reduction_dims(const Shape& shape, const std::vector<int64_t>& dims,
                                    const char* op);
// One wrapped dim (0-d tensors accept 0 and -1); the error names `op`.
int64_t single_dim(int64_t dim, int64_t ndim, const char* op);
// The shape after reducing `dims` (normalised): size 1 there with keepdim, removed otherwise.
Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim);
// Number of elements folded into each output element.
int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& dims);
// var's divisor N - correction, clamped at 0 like PyTorch: N <= correction gives inf or NaN.
double var_divisor(int64_t n, int64_t correction);
// A gradient of the reduced output, broadcast back to `input_shape` (a contiguous tensor).
Tensor expand_reduced(const Tensor& grad, const Shape& input_shape,
                      const std::vector<int64_t>& dims, bool keepdim);
// The permutation that puts the kept dims first (in order) and `dims` last.
Shape kept_then_reduced(int64_t ndim, const std::vector<int64_t>& dims);

// Values spread over [-1, 1] in random order with gaps of about 2/numel, so that max, sort and
// topk never meet a tie and their gradients are well defined.
Tensor distinct_values(CaseRandom& rng, const Shape& shape, DType dtype);

// CPU: the input's values permuted to [kept dims..., reduced dims...] and stored contiguously, so
// each output element reads one contiguous row of `row_size` elements. No copy when the input is
// already laid out that way. Does not dispatch (kernels keep last_kernel_key their own).
// `t` with its dims permuted, as a plain view outside the graph; unlike Tensor::permute it does
// not dispatch, so a kernel using it stays the last kernel key of its call.
Tensor permuted_view(const Tensor& t, const Shape& perm);

template <typename T>
Tensor cpu_rows(const Tensor& input, const std::vector<int64_t>& dims) {
  Tensor permuted = permuted_view(input, kept_then_reduced(input.dim(), dims));
  if (permuted.is_contiguous()) return permuted;
  Tensor rows = Tensor::empty(permuted.shape(), input.dtype());
  cpu_map<T, T>(
      rows, [](T v) { return v; }, permuted);
  return rows;
}

// Writes contiguous `values` into a kernel output of the same shape and any strides.
template <typename T>
void cpu_store(const Tensor& out, const Tensor& values) {
  if (out.is_same(values) || out.numel() == 0) return;
  if (out.is_contiguous()) {
    std::copy(values.data<T>(), values.data<T>() + values.numel(), out.data<T>());
  } else {
    cpu_map<T, T>(
        out, [](T v) { return v; }, values);
  }
}

// The column-blocked walk of the CPU reductions along a non-last dim: for each of `outer` rows of
// `inner` adjacent outputs, body(o, begin, len) handles outputs begin .. begin+len-1 (len <=
// block), so a kernel keeps one block of accumulators on the stack and reads each input row
// sequentially. OpenMP over (row, block) jobs when `parallel`.
template <typename Body>
void for_each_column_block(int64_t outer, int64_t inner, int64_t block, bool parallel, Body body) {
  const int64_t blocks = (inner + block - 1) / block;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t job = 0; job < outer * blocks; ++job) {
    const int64_t o = job / blocks, begin = (job % blocks) * block;
    body(o, begin, std::min(block, inner - begin));
  }
}

// A contiguous scratch tensor for a kernel's output: the output itself when it is contiguous.
inline Tensor cpu_scratch_for(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype());
}

}  // namespace osprey::ops
