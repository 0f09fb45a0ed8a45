// The iteration plan of a strided element-wise loop over N operands (operand 0 the output, the
// rest inputs broadcast to its shape), as PyTorch's TensorIterator builds it: size-1 dims are
// dropped, the dims are ordered so that the output's smallest stride is innermost (a channels-last
// or transposed output is then written sequentially), and adjacent dims that are contiguous for
// every operand at once (a broadcast dim counts: stride 0 in both) are merged into one. What is
// left is walked row by row: the outer dims with an incrementing index counter and per-operand
// offsets (no division per element), the innermost dim handed to a caller's tight loop with
// per-operand inner strides. x[B,3,H,W] - s[1,3,1,1] becomes rows of H*W elements where x and the
// output have stride 1 and s stride 0; two dense channels-last tensors become one flat row.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>

#include "framework/core/offset_calculator.h"
#include "framework/core/tensor.h"

namespace osprey::ops {

template <int N>
struct StridedLoop {
  int ndim = 1;                       // at least 1; dim ndim - 1 is the innermost
  int64_t sizes[kMaxDims] = {1};      // each > 1, except a lone dim of an 1-element loop
  int64_t strides[N][kMaxDims] = {};  // in elements, per operand
  int64_t inner_size() const { return sizes[ndim - 1]; }
  int64_t inner_stride(int k) const { return strides[k][ndim - 1]; }
};

// The plan for iterating `shape` (no zero-size dim) where operand k has element strides
// strides[k] (one per dim of `shape`; 0 along broadcast dims).
template <int N>
StridedLoop<N> plan_strided_loop(const Shape& shape, const std::array<Shape, N>& strides) {
  // Dims that matter (size > 1), outermost first.
  int dims[kMaxDims];
  int count = 0;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (shape[d] != 1) dims[count++] = d;
  }
  // Stable insertion sort: a dim moves inwards past another when the first operand that strides
  // along both (nonzero strides) has the smaller stride there; with no such operand the logical
  // order stays.
  auto belongs_inside = [&](int a, int b) {
    for (int k = 0; k < N; ++k) {
      const int64_t sa = std::abs(strides[k][a]), sb = std::abs(strides[k][b]);
      if (sa == 0 || sb == 0 || sa == sb) continue;
      return sa < sb;
    }
    return false;
  };
  for (int i = 1; i < count; ++i) {
    for (int j = i; j > 0 && belongs_inside(dims[j - 1], dims[j]); --j) {
      std::swap(dims[j - 1], dims[j]);
    }
  }
  StridedLoop<N> loop;
  if (count == 0) return loop;  // one element: one row of one
  loop.ndim = 0;
  for (int i = 0; i < count; ++i) {
    const int d = dims[i];
    const int last = loop.ndim - 1;
    // Merge d into the previous (outer) dim when, for every operand, stepping the outer dim once
    // is stepping d over its whole extent.
    bool merge = last >= 0;
    for (int k = 0; merge && k < N; ++k) {
      merge = loop.strides[k][last] == strides[k][d] * shape[d];
    }
    if (merge) {
      loop.sizes[last] *= shape[d];
      for (int k = 0; k < N; ++k) loop.strides[k][last] = strides[k][d];
    } else {
      loop.sizes[loop.ndim] = shape[d];
      for (int k = 0; k < N; ++k) loop.strides[k][loop.ndim] = strides[k][d];
      ++loop.ndim;
    }
  }
  return loop;
}

// Calls row(offsets, length) for each run of the linear indices [begin, end) of `loop` that lies
// in one innermost row, in order; offsets[k] is operand k's element offset of the run's first
// element. Two divisions per outer dim at `begin`, none after.
template <int N, typename Row>
void for_each_row(const StridedLoop<N>& loop, int64_t begin, int64_t end, Row&& row) {
  const int last = loop.ndim - 1;
  const int64_t inner = loop.inner_size();
  int64_t index[kMaxDims] = {};
  int64_t offsets[N] = {};  // of the current row's first element
  int64_t rest = begin / inner, column = begin % inner;
  for (int d = last - 1; d >= 0; --d) {
    index[d] = rest % loop.sizes[d];
    rest /= loop.sizes[d];
    for (int k = 0; k < N; ++k) offsets[k] += index[d] * loop.strides[k][d];
  }
  for (int64_t position = begin; position < end;) {
    const int64_t length = std::min(inner - column, end - position);
    int64_t start[N];
    for (int k = 0; k < N; ++k) start[k] = offsets[k] + column * loop.strides[k][last];
    row(static_cast<const int64_t*>(start), length);
    position += length;
    column = 0;
    for (int d = last - 1; d >= 0; --d) {
      for (int k = 0; k < N; ++k) offsets[k] += loop.strides[k][d];
      if (++index[d] < loop.sizes[d]) break;
      for (int k = 0; k < N; ++k) offsets[k] -= loop.strides[k][d] * loop.sizes[d];
      index[d] = 0;
    }
  }
}

}  // namespace osprey::ops
