// cpu/reference kernels of index_select, gather, scatter_add and masked_select. Each checks every
// index value before writing and walks its operands through their strides, reading i64 or i32
// index tensors in place (an expanded index, as index_select's backward passes to scatter_add,
// is never materialised). index_select copies whole slices (one memcpy per slice when input and
// output are contiguous: the embedding lookup); gather runs element-parallel; scatter_add is
// sequential because several positions may add into one element.
#include <array>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ops/common/op_helpers.h"
#include "ops/copy/copy.h"
#include "ops/index/index.h"

namespace osprey::ops {
namespace {

// Calls f(offsets) for the positions [begin, end) of a row-major walk over `shape`, where
// offsets[k] is the element offset of the position in strided operand k. The innermost dim runs
// as a tight loop; outer dims advance with additions only.
template <int N, typename F>
void strided_for(const Shape& shape, const std::array<Shape, N>& strides, int64_t begin,
                 int64_t end, F f) {
  if (begin >= end) return;
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t inner = nd == 0 ? 1 : shape[nd - 1];
  std::array<int64_t, N> inner_stride{}, base{};
  for (int k = 0; k < N; ++k) inner_stride[k] = nd == 0 ? 0 : strides[k][nd - 1];
  // Coordinates of the outer dims for the row holding `begin`.
  Shape coord(std::max<int64_t>(nd - 1, 0), 0);
  int64_t row = begin / inner, col = begin % inner;
  for (int64_t d = nd - 2; d >= 0; --d) {
    coord[d] = row % shape[d];
    row /= shape[d];
    for (int k = 0; k < N; ++k) base[k] += coord[d] * strides[k][d];
  }
  std::array<int64_t, N> off;
  for (int64_t i = begin; i < end;) {
    for (int64_t c = col; c < inner && i < end; ++c, ++i) {
      for (int k = 0; k < N; ++k) off[k] = base[k] + c * inner_stride[k];
      f(off);
    }
    col = 0;
    for (int64_t d = nd - 2; d >= 0; --d) {
      for (int k = 0; k < N; ++k) base[k] += strides[k][d];
      if (++coord[d] < shape[d]) break;
      for (int k = 0; k < N; ++k) base[k] -= strides[k][d] * shape[d];
      coord[d] = 0;
    }
  }
}

// Throws naming op, argument and value at the first index outside [0, input.size(dim)).
template <typename I>
void check_indices(const char* op, const Tensor& index, const Tensor& input, int64_t dim) {
  const I* p = index.data<I>();
  const int64_t size = input.size(dim);
  int64_t i = 0;
  strided_for<1>(index.shape(), {index.strides()}, 0, index.numel(), [&](const auto& off) {
    const int64_t v = p[off[0]];
    if (v < 0 || v >= size) {
      OSPREY_THROW(value,
                   "{}: index value {} (at flat position {} of 'index') is out of range for dim "
                   "{} of input {}, which has size {}",
                   op, v, i, dim, input.describe(), size);
    }
    ++i;
  });
}

// t[.., i, ..] along dim, without the dispatcher (the call's kernel key stays this kernel's).
Tensor select_alias(const Tensor& t, int64_t dim, int64_t i) {
  Shape shape = t.shape(), strides = t.strides();
  int64_t offset = t.offset() + i * strides[dim];
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return Tensor::from_storage(t.storage(), shape, strides, offset, t.dtype());
}

// The tensor a flat loop writes: `out` itself, or a contiguous stand-in for a strided out=.
Tensor contiguous_target(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
}

void index_select_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  // A 1-d i64 copy of the (at most 1-d) index: small, and simple to read below.
  Tensor idx = Tensor::empty({ctx.input(1).numel()}, DType::i64);
  cpu_convert_copy(idx, ctx.input(1).dim() == 0 ? ctx.input(1).reshape({1}) : ctx.input(1));
  check_indices<int64_t>("index_select", idx, input, dim);
  Shape shape = index_select_shape(input.shape(), dim, idx.numel());
  const Tensor& out = ctx.output(0, shape, input.dtype());
  if (out.numel() == 0) return;
  const int64_t* p = idx.data<int64_t>();
  const int64_t n = idx.numel();
  if (input.is_contiguous() && out.is_contiguous()) {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
    for (int64_t d = dim + 1; d < input.dim(); ++d) inner *= shape[d];
    const size_t bytes = static_cast<size_t>(inner) * input.element_size();
    const char* src = static_cast<const char*>(input.raw_data());
    char* dst = static_cast<char*>(out.raw_data());
    const int64_t in_rows = input.size(dim);
#pragma omp parallel for schedule(static) if (outer * n * inner > 65536)
    for (int64_t r = 0; r < outer * n; ++r) {
      const int64_t o = r / n, j = r % n;
      std::memcpy(dst + r * bytes, src + (o * in_rows + p[j]) * bytes, bytes);
    }
    return;
  }
  for (int64_t j = 0; j < n; ++j) {
    cpu_convert_copy(select_alias(out, dim, j), select_alias(input, dim, p[j]));
  }
}

// out (contiguous, index's shape)[p] = input[p with dim set to index[p]].
template <typename T, typename I>
void gather_loop(const Tensor& input, const Tensor& index, int64_t dim, const Tensor& out) {
  const int64_t n = index.numel();
  const I* p = index.data<I>();
  const T* in = input.data<T>();
  T* o = out.data<T>();
  const int64_t dim_stride = input.stride(dim);
#pragma omp parallel if (n > 32768)
  {
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), id = omp_get_thread_num();
#else
    const int64_t threads = 1, id = 0;
#endif
    const int64_t chunk = (n + threads - 1) / threads;
    const int64_t begin = std::min(n, id * chunk), end = std::min(n, begin + chunk);
    int64_t i = begin;
    strided_for<2>(index.shape(), {index.strides(), without_dim(input.strides(), dim)}, begin, end,
                   [&](const auto& off) {
                     o[i++] = in[off[1] + static_cast<int64_t>(p[off[0]]) * dim_stride];
                   });
  }
}

void gather_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  with_index_type(index, [&]<typename I>() { check_indices<I>("gather", index, input, dim); });
  const Tensor& given = ctx.output(0, index.shape(), input.dtype());
  Tensor out = contiguous_target(given);
  OSPREY_DISPATCH_ALL(input.dtype(), "gather", [&]<typename T>() {
    with_index_type(index, [&]<typename I>() { gather_loop<T, I>(input, index, dim, out); });
  });
  if (!out.is_same(given)) cpu_convert_copy(given, out);
}

// out[p with dim set to index[p]] += src[p] for every position p of index.
template <typename T, typename I>
void scatter_add_loop(const Tensor& index, const Tensor& src, int64_t dim, const Tensor& out) {
  const I* p = index.data<I>();
  const T* s = src.data<T>();
  T* o = out.data<T>();
  const int64_t dim_stride = out.stride(dim);
  strided_for<3>(index.shape(), {index.strides(), src.strides(), without_dim(out.strides(), dim)},
                 0, index.numel(), [&](const auto& off) {
                   o[off[2] + static_cast<int64_t>(p[off[0]]) * dim_stride] += s[off[1]];
                 });
}

void scatter_add_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& index = ctx.input(1);
  const Tensor& src = ctx.input(2);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  with_index_type(index, [&]<typename I>() { check_indices<I>("scatter_add", index, input, dim); });
  const Tensor& out = ctx.output(0, input.shape(), input.dtype());
  cpu_convert_copy(out, input);
  OSPREY_DISPATCH_NUMERIC(input.dtype(), "scatter_add", [&]<typename T>() {
    with_index_type(index, [&]<typename I>() { scatter_add_loop<T, I>(index, src, dim, out); });
  });
}

template <typename T>
void masked_select_loop(const Tensor& input, const Tensor& mask, const Shape& shape,
                        const Tensor& out) {
  const auto* m = static_cast<const uint8_t*>(mask.raw_data());  // bool and u8: one byte, 0 or 1
  const T* in = input.data<T>();
  T* o = out.data<T>();
  int64_t k = 0;
  strided_for<2>(shape, {broadcast_strides(input, shape), broadcast_strides(mask, shape)}, 0,
                 shape_numel(shape), [&](const auto& off) {
                   if (m[off[1]]) o[k++] = in[off[0]];
                 });
}

void masked_select_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& mask = ctx.input(1);
  Shape shape = broadcast_shapes(input.shape(), mask.shape(), "masked_select");
  const auto* m = static_cast<const uint8_t*>(mask.raw_data());
  int64_t count = 0;
  strided_for<1>(shape, {broadcast_strides(mask, shape)}, 0, shape_numel(shape),
                 [&](const auto& off) { count += m[off[0]] != 0; });
  const Tensor& given = ctx.output(0, {count}, input.dtype());
  Tensor out = contiguous_target(given);
  OSPREY_DISPATCH_ALL(input.dtype(), "masked_select",
                      [&]<typename T>() { masked_select_loop<T>(input, mask, shape, out); });
  if (!out.is_same(given)) cpu_convert_copy(given, out);
}

const bool registered = [] {
  auto all = [](const KernelContext&) { return true; };
  register_kernel("index_select", DeviceType::cpu, "reference", 0, index_select_kernel, all,
                  "slice copies; one memcpy per slice when contiguous; any dtype");
  register_kernel("gather", DeviceType::cpu, "reference", 0, gather_kernel, all,
                  "strided element walk, parallel; any dtype");
  register_kernel("scatter_add", DeviceType::cpu, "reference", 0, scatter_add_kernel, all,
                  "copy of input, then a sequential strided accumulation walk");
  register_kernel("masked_select", DeviceType::cpu, "reference", 0, masked_select_kernel, all,
                  "two strided walks: count, then copy");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
