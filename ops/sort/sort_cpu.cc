// CPU kernels of sort and topk. Both order a row's positions with one comparator: by value (NaN
// largest), ties by position, which is a total order, so std::sort / std::partial_sort give the
// stable result and every kernel agrees exactly.
//   reference: the dim moved last and copied to contiguous rows; rows sorted one after another;
//     results written back through the outputs' permuted views. Every numeric dtype.
//   lastdim: contiguous f32/f64 inputs sorted along the last dim, in place, rows split across
//     OpenMP threads. Wins on large batches of rows (topk over logits, NMS scores).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/common/compute_type.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

template <typename T>
using Compare = compute_t<T>;  // the type values are compared in

template <typename C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

// Writes the first k positions of row (n elements) in order to values/indices.
template <typename T>
void sort_row(const T* row, int64_t n, int64_t k, bool descending, std::vector<int64_t>& perm,
              T* values, int64_t* indices) {
  using C = Compare<T>;
  perm.resize(n);
  std::iota(perm.begin(), perm.end(), int64_t{0});
  auto before = [row, descending](int64_t i, int64_t j) {
    C a = C(row[i]), b = C(row[j]);
    bool a_nan = is_nan(a), b_nan = is_nan(b);
    if (a_nan != b_nan) return descending ? a_nan : b_nan;
    if (!a_nan && a != b) return descending ? a > b : a < b;
    return i < j;
  };
  if (k == n) {
    std::sort(perm.begin(), perm.end(), before);
  } else {
    std::partial_sort(perm.begin(), perm.begin() + k, perm.end(), before);
  }
  for (int64_t i = 0; i < k; ++i) {
    values[i] = row[perm[i]];
    indices[i] = perm[i];
  }
}

struct SortGeometry {
  int64_t dim = 0;  // wrapped (0 for 0-d inputs)
  int64_t n = 1;    // elements along dim
  int64_t k = 1;    // kept along dim
  bool descending = false;
  Tensor values, indices;
};

SortGeometry sort_outputs(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  SortGeometry g;
  const bool topk = ctx.attrs().has("k");
  g.dim = single_dim(ctx.attrs().get_int("dim"), input.dim(), ctx.op().schema.name.c_str());
  g.n = input.dim() == 0 ? 1 : input.size(g.dim);
  g.k = topk ? ctx.attrs().get_int("k") : g.n;
  g.descending = topk ? ctx.attrs().get_bool("largest") : ctx.attrs().get_bool("descending");
  Shape shape = input.shape();
  if (!shape.empty()) shape[g.dim] = g.k;
  g.values = ctx.output(0, shape, input.dtype());
  g.indices = ctx.output(1, shape, DType::i64);
  return g;
}

void sort_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  SortGeometry g = sort_outputs(ctx);
  const std::vector<int64_t> dims =
      input.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{g.dim};
  const Shape perm = kept_then_reduced(input.dim(), dims);
  OSPREY_DISPATCH_ALL(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    Tensor rows = cpu_rows<T>(input, dims);
    Tensor values_rows = permuted_view(g.values, perm);
    Tensor values = Tensor::empty(values_rows.shape(), input.dtype());
    Tensor indices = Tensor::empty(values_rows.shape(), DType::i64);
    const int64_t count = g.n == 0 ? 0 : input.numel() / g.n;
    std::vector<int64_t> scratch;
    for (int64_t r = 0; r < count; ++r) {
      sort_row(rows.data<T>() + r * g.n, g.n, g.k, g.descending, scratch,
               values.data<T>() + r * g.k, indices.data<int64_t>() + r * g.k);
    }
    cpu_map<T, T>(
        values_rows, [](T v) { return v; }, values);
    cpu_map<int64_t, int64_t>(
        permuted_view(g.indices, perm), [](int64_t v) { return v; }, indices);
  });
}

bool lastdim_supports(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  return inputs_are_float(ctx) && x.is_contiguous() && x.dim() > 0 &&
         single_dim(ctx.attrs().get_int("dim"), x.dim(), "sort") == x.dim() - 1;
}

template <typename T>
void sort_rows_parallel(const T* in, int64_t count, const SortGeometry& g, T* values,
                        int64_t* indices) {
#pragma omp parallel if (count * g.n >= kParallelGrain)
  {
    std::vector<int64_t> scratch;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < count; ++r) {
      sort_row(in + r * g.n, g.n, g.k, g.descending, scratch, values + r * g.k, indices + r * g.k);
    }
  }
}

void sort_lastdim(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  SortGeometry g = sort_outputs(ctx);
  OSPREY_DISPATCH_FLOAT(input.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    Tensor values = cpu_scratch_for(g.values);
    Tensor indices = cpu_scratch_for(g.indices);
    const int64_t count = g.n == 0 ? 0 : input.numel() / g.n;
    sort_rows_parallel(input.data<T>(), count, g, values.data<T>(), indices.data<int64_t>());
    cpu_store<T>(g.values, values);
    cpu_store<int64_t>(g.indices, indices);
  });
}

const bool registered = [] {
  for (const char* op : {"sort", "topk"}) {
    register_kernel(op, DeviceType::cpu, "reference", 0, sort_reference, {},
                    "dim moved last (copied), rows sorted serially; every numeric dtype");
    register_kernel(op, DeviceType::cpu, "lastdim", 10, sort_lastdim, lastdim_supports,
                    "contiguous f32/f64 along the last dim: in place, OpenMP over rows");
  }
  return true;
}();

}  // namespace
}  // namespace osprey::ops
