// CPU kernels of sum and mean.
//   reference: the input permuted to rows of reduced elements (a copy unless already laid out
//     that way), each row summed serially in double (int64 for integers). Every dtype.
//   blocked: f32/f64 contiguous inputs whose reduced dims are adjacent, read in place as
//     [outer, reduced, inner] with no copy. inner == 1 (trailing dims, e.g. a row sum) sums each
//     row with eight independent double accumulators; inner > 1 (leading or middle dims, e.g. a
//     bias gradient) adds whole rows of `inner` into a double buffer, which vectorises. OpenMP
//     splits outer rows (or inner blocks when there are few rows). Wins over the reference by
//     skipping the copy and running in parallel: several times faster on large tensors.
#include <cmath>

#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

template <typename T>
using Accumulator = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
template <typename T>
using SumOutput = std::conditional_t<std::is_integral_v<T>, int64_t, T>;

DType sum_dtype(DType input) {
  return is_floating(input) ? input : DType::i64;
}

void reduce_reference(KernelContext& ctx, bool mean) {
  const Tensor& input = ctx.input(0);
  const char* op = ctx.op().schema.name.c_str();
  auto dims = reduction_dims(input.shape(), ctx.attrs().get_ints("dims"), op);
  Shape shape = reduced_shape(input.shape(), dims, ctx.attrs().get_bool("keepdim"));
  const Tensor& out = ctx.output(0, shape, sum_dtype(input.dtype()));
  const int64_t inner = reduced_count(input.shape(), dims);
  OSPREY_DISPATCH_ALL(input.dtype(), op, [&]<typename T>() {
    using Acc = Accumulator<T>;
    using Out = SumOutput<T>;
    Tensor rows = cpu_rows<T>(input, dims);
    Tensor result = cpu_scratch_for(out);
    const T* in = rows.data<T>();
    Out* dst = result.data<Out>();
    for (int64_t o = 0; o < out.numel(); ++o) {
      Acc acc = 0;
      for (int64_t i = 0; i < inner; ++i) acc += static_cast<Acc>(in[o * inner + i]);
      if constexpr (std::is_floating_point_v<Acc>) {
        dst[o] = static_cast<Out>(mean ? acc / static_cast<double>(inner) : acc);
      } else {
        dst[o] = static_cast<Out>(acc);
      }
    }
    cpu_store<Out>(out, result);
  });
}

void sum_reference(KernelContext& ctx) {
  reduce_reference(ctx, false);
}
void mean_reference(KernelContext& ctx) {
  reduce_reference(ctx, true);
}

// [outer, reduced, inner] geometry of a contiguous input whose reduced dims are adjacent.
struct Blocks {
  int64_t outer = 1, reduced = 1, inner = 1;
};

bool adjacent_dims(const std::vector<int64_t>& dims) {
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] != dims[i - 1] + 1) return false;
  }
  return true;
}

bool blocked_supports(const KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  if (!inputs_are_float(ctx) || !input.is_contiguous() || input.dim() == 0) return false;
  return adjacent_dims(reduction_dims(input.shape(), ctx.attrs().get_ints("dims"), "sum"));
}

template <typename T>
double row_sum(const T* p, int64_t n) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) a[k] += static_cast<double>(p[i + k]);
  }
  for (; i < n; ++i) a[i % 8] += static_cast<double>(p[i]);
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

template <typename T>
void blocked_sum(const T* in, T* out, const Blocks& b, double scale) {
  const int64_t work = b.outer * b.reduced * b.inner;
  const bool parallel = work >= kParallelGrain;
  if (b.inner == 1) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < b.outer; ++o) {
      out[o] = static_cast<T>(row_sum(in + o * b.reduced, b.reduced) * scale);
    }
    return;
  }
  constexpr int64_t kBlock = 512;
  const int64_t blocks = (b.inner + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t job = 0; job < b.outer * blocks; ++job) {
    const int64_t o = job / blocks, begin = (job % blocks) * kBlock;
    const int64_t len = std::min(kBlock, b.inner - begin);
    double acc[kBlock];
    for (int64_t j = 0; j < len; ++j) acc[j] = 0;
    for (int64_t r = 0; r < b.reduced; ++r) {
      const T* row = in + (o * b.reduced + r) * b.inner + begin;
      for (int64_t j = 0; j < len; ++j) acc[j] += static_cast<double>(row[j]);
    }
    T* dst = out + o * b.inner + begin;
    for (int64_t j = 0; j < len; ++j) dst[j] = static_cast<T>(acc[j] * scale);
  }
}

void reduce_blocked(KernelContext& ctx, bool mean) {
  const Tensor& input = ctx.input(0);
  const char* op = ctx.op().schema.name.c_str();
  auto dims = reduction_dims(input.shape(), ctx.attrs().get_ints("dims"), op);
  const Tensor& out = ctx.output(
      0, reduced_shape(input.shape(), dims, ctx.attrs().get_bool("keepdim")), input.dtype());
  Blocks b;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (!dims.empty() && d < dims.front()) {
      b.outer *= input.size(d);
    } else if (!dims.empty() && d <= dims.back()) {
      b.reduced *= input.size(d);
    } else {
      b.inner *= input.size(d);
    }
  }
  if (dims.empty()) b = {1, 1, input.numel()};  // nothing reduced: a copy
  const double scale = mean ? 1.0 / static_cast<double>(b.reduced) : 1.0;
  OSPREY_DISPATCH_FLOAT(input.dtype(), op, [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    if (result.numel() > 0) blocked_sum(input.data<T>(), result.data<T>(), b, scale);
    cpu_store<T>(out, result);
  });
}

void sum_blocked(KernelContext& ctx) {
  reduce_blocked(ctx, false);
}
void mean_blocked(KernelContext& ctx) {
  reduce_blocked(ctx, true);
}

const bool registered = [] {
  register_kernel("sum", DeviceType::cpu, "reference", 0, sum_reference, {},
                  "rows of reduced elements summed serially in double (int64 for integers)");
  register_kernel("mean", DeviceType::cpu, "reference", 0, mean_reference, {},
                  "rows of reduced elements summed serially in double, divided by the count");
  const char* doc =
      "contiguous input, adjacent reduced dims: in place, OpenMP, double accumulators";
  register_kernel("sum", DeviceType::cpu, "blocked", 10, sum_blocked, blocked_supports, doc);
  register_kernel("mean", DeviceType::cpu, "blocked", 10, mean_blocked, blocked_supports, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
