// CPU kernels of var. Both take two passes in double (mean, then squared deviations), which
// avoids the cancellation of the one-pass E[x²] - E[x]² formula.
//   reference: the input permuted to rows of reduced elements (a copy unless already laid out
//     that way), rows computed serially. f32, f64, f16, bf16.
//   blocked: f32/f64 contiguous inputs read in place as groups of kept and reduced dims (see
//     reduce_groups.h), OpenMP over outputs; wins like sum's blocked kernel (no copy, parallel),
//     e.g. per-channel statistics of an NCHW tensor.
#include <cmath>

#include "ops/reduce/reduce_groups.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// What both CPU kernels start from: the normalised dims, the output, N and the divisor.
struct VarCall {
  std::vector<int64_t> dims;
  const Tensor& out;
  int64_t n;
  double denom;
};

VarCall start_var(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  auto dims = reduction_dims(input.shape(), ctx.attrs().get_ints("dims"), "var");
  const Tensor& out = ctx.output(
      0, reduced_shape(input.shape(), dims, ctx.attrs().get_bool("keepdim")), input.dtype());
  const int64_t n = reduced_count(input.shape(), dims);
  return {std::move(dims), out, n, var_divisor(n, ctx.attrs().get_int("correction"))};
}

void var_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const auto [dims, out, n, denom] = start_var(ctx);
  OSPREY_DISPATCH_FLOAT_AND_HALF(input.dtype(), "var", [&]<typename T>() {
    Tensor rows = cpu_rows<T>(input, dims);
    Tensor result = cpu_scratch_for(out);
    const T* in = rows.data<T>();
    for (int64_t o = 0; o < out.numel(); ++o) {
      const T* row = in + o * n;
      double total = 0;
      for (int64_t i = 0; i < n; ++i) total += static_cast<double>(row[i]);
      const double mean = total / static_cast<double>(n);
      double squares = 0;
      for (int64_t i = 0; i < n; ++i) {
        double d = static_cast<double>(row[i]) - mean;
        squares += d * d;
      }
      result.data<T>()[o] = static_cast<T>(squares / denom);
    }
    cpu_store<T>(out, result);
  });
}

bool blocked_supports(const KernelContext& ctx) {
  return inputs_are_float(ctx) && ctx.input(0).is_contiguous() && ctx.input(0).dim() > 0;
}

template <typename T>
void blocked_var(const T* in, T* out, const Grouping& g, int64_t count, double denom,
                 bool parallel) {
  const int64_t outer = g.kept.count(), steps = g.reduced.count(), n = g.inner;
  if (g.inner_reduced) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < outer; ++o) {
      const T* base = in + g.kept.offset(o);
      double total = 0;
      for (int64_t p = 0; p < steps; ++p) {
        const T* row = base + g.reduced.offset(p);
        for (int64_t j = 0; j < n; ++j) total += static_cast<double>(row[j]);
      }
      const double mean = total / static_cast<double>(count);
      double squares = 0;
      for (int64_t p = 0; p < steps; ++p) {
        const T* row = base + g.reduced.offset(p);
        for (int64_t j = 0; j < n; ++j) {
          const double d = static_cast<double>(row[j]) - mean;
          squares += d * d;
        }
      }
      out[o] = static_cast<T>(squares / denom);
    }
    return;
  }
  constexpr int64_t kBlock = 256;
  for_each_column_block(outer, n, kBlock, parallel, [&](int64_t o, int64_t begin, int64_t len) {
    const T* base = in + g.kept.offset(o) + begin;
    double mean[kBlock], squares[kBlock];
    for (int64_t j = 0; j < len; ++j) mean[j] = squares[j] = 0;
    for (int64_t p = 0; p < steps; ++p) {
      const T* row = base + g.reduced.offset(p);
      for (int64_t j = 0; j < len; ++j) mean[j] += static_cast<double>(row[j]);
    }
    for (int64_t j = 0; j < len; ++j) mean[j] /= static_cast<double>(count);
    for (int64_t p = 0; p < steps; ++p) {
      const T* row = base + g.reduced.offset(p);
      for (int64_t j = 0; j < len; ++j) {
        const double d = static_cast<double>(row[j]) - mean[j];
        squares[j] += d * d;
      }
    }
    T* dst = out + o * n + begin;
    for (int64_t j = 0; j < len; ++j) dst[j] = static_cast<T>(squares[j] / denom);
  });
}

void var_blocked(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const auto [dims, out, n, denom] = start_var(ctx);
  OSPREY_DISPATCH_FLOAT(input.dtype(), "var", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    if (input.numel() == 0) {
      std::fill(dst, dst + result.numel(), static_cast<T>(NAN));  // the mean of nothing
    } else {
      blocked_var(input.data<T>(), dst, group_dims(input, dims), n, denom,
                  input.numel() >= kParallelGrain);
    }
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("var", DeviceType::cpu, "reference", 0, var_reference, {},
                  "rows of reduced elements, two passes in double");
  register_kernel("var", DeviceType::cpu, "blocked", 10, var_blocked, blocked_supports,
                  "contiguous f32/f64 read in place as dim groups, two passes in double, OpenMP");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
