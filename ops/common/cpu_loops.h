// Element-wise loops for CPU kernels. `cpu_map` writes out[i] = f(in0[i], in1[i], ...) over the
// broadcast of the inputs to out's shape, for any strides. Same-shape contiguous operands are one
// flat row; everything else is planned by strided_loop.h into rows (dims reordered and merged, an
// index counter over the outer dims) so that broadcasting, channels-last and transposed operands
// also run at memory speed. Each row runs a tight loop the compiler vectorises when every inner
// stride is 1, or all are 1 but one input's 0 (a value broadcast along the row: a per-channel
// mean, a bias); other inner strides take a plain strided loop. Large loops are split across
// OpenMP threads in contiguous ranges of elements; f is applied once per output element, as
// before, so results do not depend on the path.
#pragma once

#include <array>
#include <cstdint>
#include <tuple>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "framework/core/offset_calculator.h"
#include "framework/core/tensor.h"
#include "ops/common/op_helpers.h"
#include "ops/common/strided_loop.h"

namespace osprey::ops {

inline constexpr int64_t kParallelGrain = 32768;

template <int N>
OffsetCalculator<N> make_offset_calculator(const Tensor& out,
                                           const std::array<const Tensor*, N>& ops) {
  OffsetCalculator<N> calc;
  const Shape& shape = out.shape();
  OSPREY_CHECK_KIND(shape, static_cast<int>(shape.size()) <= kMaxDims, "tensors of rank {} > {}",
                    shape.size(), kMaxDims);
  calc.ndim = static_cast<int>(shape.size());
  for (int d = 0; d < calc.ndim; ++d) calc.sizes[d] = shape[d];
  for (int k = 0; k < N; ++k) {
    Shape strides = broadcast_strides(*ops[k], shape);
    for (int d = 0; d < calc.ndim; ++d) calc.strides[k][d] = strides[d];
  }
  return calc;
}

// True when every operand has out's shape and is contiguous: one flat row, no planning.
inline bool all_contiguous_same_shape(const Tensor& out, std::initializer_list<const Tensor*> ins) {
  if (!out.is_contiguous()) return false;
  for (const Tensor* t : ins) {
    if (t->shape() != out.shape() || !t->is_contiguous()) return false;
  }
  return true;
}

// body(begin, end) over [0, n): at once below kParallelGrain, else one contiguous range per
// OpenMP thread.
template <typename Body>
void parallel_ranges(int64_t n, const Body& body) {
  if (n < kParallelGrain) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
#ifdef _OPENMP
    int64_t threads = omp_get_num_threads(), id = omp_get_thread_num();
#else
    int64_t threads = 1, id = 0;
#endif
    int64_t chunk = (n + threads - 1) / threads;
    int64_t begin = std::min(n, id * chunk), end = std::min(n, begin + chunk);
    body(begin, end);
  }
}

// An input's element `i` of a row, or its hoisted `first` value when it is broadcast along the
// row (stride 0): a loop-invariant scalar lets the compiler vectorise.
template <bool Broadcast, typename T>
inline T row_element(const T* p, int64_t i, T first) {
  if constexpr (Broadcast) {
    return first;
  } else {
    return p[i];
  }
}

// The row loops; o and p point at the row's first elements.
// Every inner stride 1.
template <typename R, typename F, typename... A>
inline void contiguous_row(F& f, R* o, int64_t length, const A*... p) {
  for (int64_t i = 0; i < length; ++i) o[i] = static_cast<R>(f(p[i]...));
}

// Stride 1 everywhere but input B, which holds one value along the row. That value is read once
// per row: an output overlapping it (an in-place op whose other operand views one of its own
// elements) sees the value from before the row, as in PyTorch's vectorised loops; the order of
// such overlapping writes across threads was never defined.
template <size_t B, typename R, typename F, size_t... I, typename... A>
inline void broadcast_row(F& f, R* o, int64_t length, std::index_sequence<I...>, const A*... p) {
  const std::tuple<A...> first{p[0]...};
  for (int64_t i = 0; i < length; ++i) {
    o[i] = static_cast<R>(f(row_element<I == B>(p, i, std::get<I>(first))...));
  }
}

// Any inner strides: strides[k] for operand k (0 the output).
template <typename R, typename F, size_t... I, typename... A>
inline void strided_row(F& f, R* o, int64_t length, const int64_t* strides,
                        std::index_sequence<I...>, const A*... p) {
  const int64_t out_stride = strides[0];
  [[maybe_unused]] const int64_t in_strides[] = {strides[I + 1]..., 0};
  for (int64_t i = 0; i < length; ++i) {
    o[i * out_stride] = static_cast<R>(f(p[i * in_strides[I]]...));
  }
}

// How the rows of a plan run: kContiguousRows when every inner stride is 1; 0 <= j < inputs when
// the output and every input but input j have inner stride 1 and input j has 0; kStridedRows
// otherwise.
inline constexpr int kContiguousRows = -1, kStridedRows = -2;

template <int N>
int row_kind(const StridedLoop<N>& loop) {
  if (loop.inner_stride(0) != 1) return kStridedRows;
  int broadcast = kContiguousRows;
  for (int k = 1; k < N; ++k) {
    const int64_t s = loop.inner_stride(k);
    if (s == 1) continue;
    if (s != 0 || broadcast != kContiguousRows) return kStridedRows;
    broadcast = k - 1;
  }
  return broadcast;
}

template <typename R, typename... A, typename F>
void cpu_map(const Tensor& out, F f, const std::conditional_t<true, Tensor, A>&... ins) {
  constexpr int N = sizeof...(A) + 1;
  using Inputs = std::index_sequence_for<A...>;
  const int64_t n = out.numel();
  if (n == 0) return;
  StridedLoop<N> loop;
  if (all_contiguous_same_shape(out, {&ins...})) {
    loop.sizes[0] = n;
    for (int k = 0; k < N; ++k) loop.strides[k][0] = 1;
  } else {
    const Shape& shape = out.shape();
    OSPREY_CHECK_KIND(shape, static_cast<int>(shape.size()) <= kMaxDims, "tensors of rank {} > {}",
                      shape.size(), kMaxDims);
    loop = plan_strided_loop<N>(shape,
                                {broadcast_strides(out, shape), broadcast_strides(ins, shape)...});
  }
  R* const out_ptr = static_cast<R*>(out.raw_data());
  const std::tuple<const A*...> in_ptrs{static_cast<const A*>(ins.raw_data())...};
  // Runs row(o, length, p...) on every row of `loop`, o and p pointing at the row's first
  // elements.
  auto run_rows = [&](const auto& row) {
    parallel_ranges(n, [&](int64_t begin, int64_t end) {
      for_each_row(loop, begin, end, [&](const int64_t* offsets, int64_t length) {
        [&]<size_t... I>(std::index_sequence<I...>) {
          row(out_ptr + offsets[0], length, (std::get<I>(in_ptrs) + offsets[I + 1])...);
        }
        (Inputs{});
      });
    });
  };
  const int kind = row_kind(loop);
  if (kind == kContiguousRows) {
    run_rows([&](R* o, int64_t length, const A*... p) { contiguous_row(f, o, length, p...); });
  } else if (kind == kStridedRows) {
    int64_t inner_strides[N];
    for (int k = 0; k < N; ++k) inner_strides[k] = loop.inner_stride(k);
    run_rows([&](R* o, int64_t length, const A*... p) {
      strided_row(f, o, length, inner_strides, Inputs{}, p...);
    });
  } else {
    // One instance per input position that may be the broadcast one.
    [&]<size_t... B>(std::index_sequence<B...>) {
      (
          [&] {
            if (kind != static_cast<int>(B)) return;
            run_rows([&](R* o, int64_t length, const A*... p) {
              broadcast_row<B>(f, o, length, Inputs{}, p...);
            });
          }(),
          ...);
    }
    (Inputs{});
  }
}

}  // namespace osprey::ops
