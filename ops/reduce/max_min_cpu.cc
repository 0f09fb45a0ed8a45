// CPU kernels of max, min, argmax and argmin.
//   reference: the input permuted so the dim is last (a copy unless already so), each row
//     scanned serially. Every numeric dtype (f16/bf16 compared in float).
//   inplace: f32/f64 contiguous inputs read as [outer, size, inner] without a copy; rows
//     (inner == 1) are scanned directly, other dims compare whole `inner` slices at a time, which
//     keeps reads sequential. OpenMP over outer rows and inner blocks; wins on large tensors.
// Both keep the first index among ties and let the first NaN win (see reduce.h).
#include <cmath>

#include "ops/common/compute_type.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// Whether v replaces the current best: strictly better, or the first NaN.
template <bool Largest, typename C>
inline bool better(C v, C best) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(v)) return !std::isnan(best);
  }
  return Largest ? v > best : v < best;
}

struct ExtremumOutputs {
  Tensor values;  // undefined for argmax/argmin
  Tensor indices;
  int64_t dim = 0;
};

ExtremumOutputs extremum_outputs(KernelContext& ctx, bool with_values) {
  const Tensor& input = ctx.input(0);
  ExtremumOutputs out;
  out.dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), ctx.op().schema.name.c_str());
  Shape shape = input.dim() == 0
                    ? Shape{}
                    : reduced_shape(input.shape(), {out.dim}, ctx.attrs().get_bool("keepdim"));
  if (with_values) out.values = ctx.output(0, shape, input.dtype());
  out.indices = ctx.output(with_values ? 1 : 0, shape, DType::i64);
  return out;
}

template <bool Largest>
void extremum_reference(KernelContext& ctx, bool with_values) {
  const Tensor& input = ctx.input(0);
  ExtremumOutputs out = extremum_outputs(ctx, with_values);
  const int64_t n = input.dim() == 0 ? 1 : input.size(out.dim);
  const std::vector<int64_t> dims =
      input.dim() == 0 ? std::vector<int64_t>{} : std::vector{out.dim};
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = compute_t<T>;
    Tensor rows = cpu_rows<T>(input, dims);
    const T* in = rows.data<T>();
    Tensor idx = cpu_scratch_for(out.indices);
    Tensor val = with_values ? cpu_scratch_for(out.values) : Tensor();
    for (int64_t o = 0; o < out.indices.numel(); ++o) {
      const T* row = in + o * n;
      int64_t best = 0;
      for (int64_t i = 1; i < n; ++i) {
        if (better<Largest>(C(row[i]), C(row[best]))) best = i;
      }
      idx.data<int64_t>()[o] = best;
      if (with_values) val.data<T>()[o] = row[best];
    }
    cpu_store<int64_t>(out.indices, idx);
    if (with_values) cpu_store<T>(out.values, val);
  });
}

bool inplace_supports(const KernelContext& ctx) {
  return inputs_are_float(ctx) && ctx.input(0).is_contiguous() && ctx.input(0).dim() > 0;
}

template <bool Largest, typename T>
void inplace_scan(const T* in, T* values, int64_t* indices, int64_t outer, int64_t n,
                  int64_t inner) {
  const bool parallel = outer * n * inner >= kParallelGrain;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = in + o * n;
      int64_t best = 0;
      for (int64_t i = 1; i < n; ++i) {
        if (better<Largest>(row[i], row[best])) best = i;
      }
      indices[o] = best;
      if (values) values[o] = row[best];
    }
    return;
  }
  constexpr int64_t kBlock = 256;
  for_each_column_block(outer, inner, kBlock, parallel, [&](int64_t o, int64_t begin, int64_t len) {
    const T* base = in + o * n * inner + begin;
    T best[kBlock];
    int64_t where[kBlock];
    for (int64_t j = 0; j < len; ++j) {
      best[j] = base[j];
      where[j] = 0;
    }
    for (int64_t i = 1; i < n; ++i) {
      const T* row = base + i * inner;
      for (int64_t j = 0; j < len; ++j) {
        if (better<Largest>(row[j], best[j])) {
          best[j] = row[j];
          where[j] = i;
        }
      }
    }
    for (int64_t j = 0; j < len; ++j) {
      indices[o * inner + begin + j] = where[j];
      if (values) values[o * inner + begin + j] = best[j];
    }
  });
}

template <bool Largest>
void extremum_inplace(KernelContext& ctx, bool with_values) {
  const Tensor& input = ctx.input(0);
  ExtremumOutputs out = extremum_outputs(ctx, with_values);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < out.dim; ++d) outer *= input.size(d);
  for (int64_t d = out.dim + 1; d < input.dim(); ++d) inner *= input.size(d);
  OSPREY_DISPATCH_FLOAT(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    Tensor idx = cpu_scratch_for(out.indices);
    Tensor val = with_values ? cpu_scratch_for(out.values) : Tensor();
    if (idx.numel() > 0) {
      inplace_scan<Largest>(input.data<T>(), with_values ? val.data<T>() : nullptr,
                            idx.data<int64_t>(), outer, input.size(out.dim), inner);
    }
    cpu_store<int64_t>(out.indices, idx);
    if (with_values) cpu_store<T>(out.values, val);
  });
}

const bool registered = [] {
  const char* ref_doc = "dim moved last (copied), rows scanned serially; every numeric dtype";
  const char* fast_doc = "contiguous f32/f64 read in place as [outer, size, inner]; OpenMP";
  auto reg = [&](const char* op, auto ref, auto fast) {
    register_kernel(op, DeviceType::cpu, "reference", 0, ref, {}, ref_doc);
    register_kernel(op, DeviceType::cpu, "inplace", 10, fast, inplace_supports, fast_doc);
  };
  reg(
      "max", [](KernelContext& c) { extremum_reference<true>(c, true); },
      [](KernelContext& c) { extremum_inplace<true>(c, true); });
  reg(
      "min", [](KernelContext& c) { extremum_reference<false>(c, true); },
      [](KernelContext& c) { extremum_inplace<false>(c, true); });
  reg(
      "argmax", [](KernelContext& c) { extremum_reference<true>(c, false); },
      [](KernelContext& c) { extremum_inplace<true>(c, false); });
  reg(
      "argmin", [](KernelContext& c) { extremum_reference<false>(c, false); },
      [](KernelContext& c) { extremum_inplace<false>(c, false); });
  return true;
}();

}  // namespace
}  // namespace osprey::ops
