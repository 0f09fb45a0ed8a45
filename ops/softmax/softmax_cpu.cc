// CPU kernels of softmax, log_softmax, softmax_backward and log_softmax_backward.
//   reference: every input permuted so the dim is last and copied to contiguous rows; each row
//     computed serially in double; the result written back through the output's permuted view.
//     f32, f64, f16 and bf16.
//   lastdim: f32/f64 contiguous inputs reduced along the last dim (the usual logits layout), read
//     and written in place, rows split across OpenMP threads; exp in the input's precision with
//     the row sum in double. Wins on large batches (no copies, parallel).
#include <cmath>
#include <limits>

#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// One row of `n` elements: in[k] points at input k's row, out at the output row. C is the
// precision of exp and of the elementwise arithmetic; sums are always double.
template <typename T, typename C>
void softmax_row(const T* const* in, T* out, int64_t n, bool log) {
  const T* x = in[0];
  C m = -std::numeric_limits<C>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, C(x[i]));
  double total = 0;
  if (!log && std::is_same_v<C, T>) {
    // Computing in T: keep each exp in the output and rescale, one exp per element.
    for (int64_t i = 0; i < n; ++i) {
      out[i] = static_cast<T>(std::exp(C(x[i]) - m));
      total += static_cast<double>(out[i]);
    }
    const C scale = C(1.0 / total);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(C(out[i]) * scale);
    return;
  }
  for (int64_t i = 0; i < n; ++i) total += static_cast<double>(std::exp(C(x[i]) - m));
  if (log) {
    // (x - m) first: folding m into the shift would round it at m's magnitude.
    const C lse = C(std::log(total));
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>((C(x[i]) - m) - lse);
  } else {
    const C scale = C(1.0 / total);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(std::exp(C(x[i]) - m) * scale);
  }
}

template <typename T, typename C>
void softmax_backward_row(const T* const* in, T* out, int64_t n, bool log) {
  const T* g = in[0];
  const T* y = in[1];
  double total = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(g[i]);
    const C s = C(total);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(C(g[i]) - std::exp(C(y[i])) * s);
  } else {
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(g[i]) * static_cast<double>(y[i]);
    const C s = C(total);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(C(y[i]) * (C(g[i]) - s));
  }
}

template <typename T, typename C>
using RowFn = void (*)(const T* const*, T*, int64_t, bool);

// The reference: rows copied out, computed in double, written back through out's permuted view.
template <typename T>
void rows_reference(KernelContext& ctx, RowFn<T, double> row, bool log) {
  const Tensor& first = ctx.input(0);
  const int64_t dim = single_dim(ctx.attrs().get_int("dim"), first.dim(), "softmax");
  const std::vector<int64_t> dims =
      first.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{dim};
  const Tensor& out = ctx.output(0, first.shape(), first.dtype());
  const int64_t n = first.dim() == 0 ? 1 : first.size(dim);
  if (out.numel() == 0) return;
  std::vector<Tensor> rows;
  std::vector<const T*> ptrs;
  for (int i = 0; i < ctx.num_inputs(); ++i) rows.push_back(cpu_rows<T>(ctx.input(i), dims));
  Tensor result = Tensor::empty(rows[0].shape(), first.dtype());
  for (int64_t r = 0; r < out.numel() / n; ++r) {
    ptrs.clear();
    for (const auto& t : rows) ptrs.push_back(t.data<T>() + r * n);
    row(ptrs.data(), result.data<T>() + r * n, n, log);
  }
  Tensor out_rows = permuted_view(out, kept_then_reduced(out.dim(), dims));
  cpu_map<T, T>(
      out_rows, [](T v) { return v; }, result);
}

bool lastdim_supports(const KernelContext& ctx) {
  if (!inputs_are_float(ctx)) return false;
  for (const auto& t : ctx.inputs()) {
    if (!t.is_contiguous()) return false;
  }
  const Tensor& x = ctx.input(0);
  return x.dim() > 0 && single_dim(ctx.attrs().get_int("dim"), x.dim(), "softmax") == x.dim() - 1;
}

template <typename T>
void rows_lastdim(KernelContext& ctx, RowFn<T, T> row, bool log) {
  const Tensor& first = ctx.input(0);
  const Tensor& out = ctx.output(0, first.shape(), first.dtype());
  if (out.numel() == 0) return;
  Tensor result = cpu_scratch_for(out);
  const int64_t n = first.size(-1), count = first.numel() / n;
  const int inputs = ctx.num_inputs();
  const T* base[2] = {ctx.input(0).data<T>(), inputs > 1 ? ctx.input(1).data<T>() : nullptr};
  T* dst = result.data<T>();
#pragma omp parallel for schedule(static) if (first.numel() >= kParallelGrain)
  for (int64_t r = 0; r < count; ++r) {
    const T* ptrs[2] = {base[0] + r * n, base[1] ? base[1] + r * n : nullptr};
    row(ptrs, dst + r * n, n, log);
  }
  cpu_store<T>(out, result);
}

template <bool Backward>
void reference_kernel(KernelContext& ctx, bool log) {
  OSPREY_DISPATCH_FLOAT_AND_HALF(ctx.input(0).dtype(), ctx.op().schema.name.c_str(),
                                 [&]<typename T>() {
                                   if constexpr (Backward) {
                                     rows_reference<T>(ctx, softmax_backward_row<T, double>, log);
                                   } else {
                                     rows_reference<T>(ctx, softmax_row<T, double>, log);
                                   }
                                 });
}

template <bool Backward>
void lastdim_kernel(KernelContext& ctx, bool log) {
  OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    if constexpr (Backward) {
      rows_lastdim<T>(ctx, softmax_backward_row<T, T>, log);
    } else {
      rows_lastdim<T>(ctx, softmax_row<T, T>, log);
    }
  });
}

const bool registered = [] {
  const char* ref_doc = "dim moved last (copied), rows computed serially in double";
  const char* fast_doc = "contiguous f32/f64 along the last dim: in place, OpenMP over rows";
  auto reg = [&](const char* op, bool backward, bool log) {
    dispatch::KernelFn ref, fast;
    if (backward) {
      ref = [log](KernelContext& c) { reference_kernel<true>(c, log); };
      fast = [log](KernelContext& c) { lastdim_kernel<true>(c, log); };
    } else {
      ref = [log](KernelContext& c) { reference_kernel<false>(c, log); };
      fast = [log](KernelContext& c) { lastdim_kernel<false>(c, log); };
    }
    register_kernel(op, DeviceType::cpu, "reference", 0, ref, {}, ref_doc);
    register_kernel(op, DeviceType::cpu, "lastdim", 10, fast, lastdim_supports, fast_doc);
  };
  reg("softmax", false, false);
  reg("log_softmax", false, true);
  reg("softmax_backward", true, false);
  reg("log_softmax_backward", true, true);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
