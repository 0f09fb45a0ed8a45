// Element-wise loops for CPU kernels. `cpu_map` writes out[i] = f(in0[i], in1[i], ...) over the
// broadcast of the inputs to out's shape, for any strides. Same-shape contiguous operands take a
// flat loop the compiler vectorises; everything else walks strides. Large loops are split across
// OpenMP threads.
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

// True when every operand has out's shape and is contiguous: the flat loop applies.
inline bool all_contiguous_same_shape(const Tensor& out, std::initializer_list<const Tensor*> ins) {
  if (!out.is_contiguous()) return false;
  for (const Tensor* t : ins) {
    if (t->shape() != out.shape() || !t->is_contiguous()) return false;
  }
  return true;
}

// f(p0[off[0]], p1[off[1]], ...) for a pack of pointers.
template <typename F, size_t M, typename... P>
inline auto apply_at(F& f, const std::array<int64_t, M>& off, const P*... p) {
  return [&]<size_t... I>(std::index_sequence<I...>) {
    return f(p[off[I]]...);
  }
  (std::make_index_sequence<M>{});
}

template <typename R, typename... A, typename F>
void cpu_map(const Tensor& out, F f, const std::conditional_t<true, Tensor, A>&... ins) {
  constexpr int N = sizeof...(A) + 1;
  const int64_t n = out.numel();
  if (n == 0) return;
  R* out_ptr = static_cast<R*>(out.raw_data());
  std::tuple<const A*...> in_ptrs{static_cast<const A*>(ins.raw_data())...};
  if (all_contiguous_same_shape(out, {&ins...})) {
    auto body = [&](int64_t begin, int64_t end) {
      std::apply(
          [&](const A*... p) {
            for (int64_t i = begin; i < end; ++i) out_ptr[i] = static_cast<R>(f(p[i]...));
          },
          in_ptrs);
    };
    if (n < kParallelGrain) {
      body(0, n);
    } else {
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
    return;
  }
  auto calc = make_offset_calculator<N>(out, {&out, &ins...});
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    int64_t offsets[N];
    calc.offsets(i, offsets);
    std::apply(
        [&](const A*... p) {
          std::array<int64_t, sizeof...(A)> off{};
          for (int j = 0; j < static_cast<int>(sizeof...(A)); ++j) off[j] = offsets[j + 1];
          out_ptr[offsets[0]] = static_cast<R>(apply_at(f, off, p...));
        },
        in_ptrs);
  }
}

}  // namespace osprey::ops
