// Element-wise loops over "dense" operands: every tensor has the same shape and the same strides
// and covers its elements without gaps in either memory format (contiguous or channels-last).
// Element i of every operand then sits at the same flat offset i, so one flat loop (vectorised,
// split across threads when large) computes the op in any such layout, and the output keeps the
// inputs' layout (the reference kernels write contiguous NCHW outputs, which would turn a
// channels-last network back to NCHW after every element-wise op).
#pragma once

#include <optional>

#include "ops/common/cpu_loops.h"

namespace osprey::ops {

// The shared memory format of `ts` when they are all dense with equal shapes and strides.
inline std::optional<MemoryFormat> dense_format(std::initializer_list<const Tensor*> ts) {
  const Tensor& first = **ts.begin();
  MemoryFormat format = MemoryFormat::contiguous;
  if (!first.is_contiguous()) {
    if (first.dim() != 4 || !first.is_contiguous(MemoryFormat::channels_last)) return std::nullopt;
    format = MemoryFormat::channels_last;
  }
  for (const Tensor* t : ts) {
    if (t->shape() != first.shape() || t->strides() != first.strides()) return std::nullopt;
  }
  return format;
}

// True when `ts` are dense and channels-last: where the output layout differs from the reference
// kernels'. (Contiguous operands get the same flat loop from cpu_map, so the dense kernels of
// existing ops leave those to the reference.)
inline bool dense_channels_last(std::initializer_list<const Tensor*> ts) {
  return dense_format(ts) == MemoryFormat::channels_last;
}

// out[i] = f(in[i]...) over n elements at the same flat offsets.
template <typename R, typename F, typename... A>
void dense_map(R* out, int64_t n, F f, const A*... in) {
  if (n < kParallelGrain) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]...);
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]...);
}

// A kernel body for a dense op of floating dtype: output 0 gets the inputs' layout; a caller's
// out= tensor with other strides falls back to cpu_map's strided loop.
// Inputs: 1 or 2 (f's arity).
template <int Inputs, typename F>
void dense_float_kernel(KernelContext& ctx, MemoryFormat format, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor& out = ctx.output(0, a.shape(), a.dtype(), format);
  OSPREY_DISPATCH_FLOAT(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    auto g = [f](auto... v) { return static_cast<T>(f(v...)); };
    if constexpr (Inputs == 1) {
      if (out.strides() == a.strides()) {
        dense_map<T>(out.data<T>(), a.numel(), g, a.data<T>());
      } else {
        cpu_map<T, T>(out, g, a);
      }
    } else {
      const Tensor& b = ctx.input(1);
      if (out.strides() == a.strides()) {
        dense_map<T>(out.data<T>(), a.numel(), g, a.data<T>(), b.data<T>());
      } else {
        cpu_map<T, T, T>(out, g, a, b);
      }
    }
  });
}

}  // namespace osprey::ops
