// cpu/reference kernels of index_select, gather, scatter_add and masked_select. Each checks every
// index value before writing, walks its operands through their strides (so views and expanded
// index tensors work), and reads index tensors as i64 (i32 ones are converted first).
// index_select copies whole slices (one memcpy per slice when input and output are contiguous,
// the embedding-lookup case); the others go element by element, gather in parallel.
#include <cstring>

#include "ops/common/op_helpers.h"
#include "ops/copy/copy.h"

namespace osprey::ops {
namespace {

// The index values as a contiguous i64 tensor (a converted copy when i32 or strided).
Tensor index_i64(const Tensor& index) {
  if (index.dtype() == DType::i64 && index.is_contiguous()) return index;
  Tensor t = Tensor::empty(index.shape(), DType::i64, index.device());
  cpu_convert_copy(t, index);
  return t;
}

void check_indices(const char* op, const Tensor& idx, const Tensor& input, int64_t dim) {
  const int64_t* p = idx.data<int64_t>();
  const int64_t size = input.size(dim);
  for (int64_t i = 0; i < idx.numel(); ++i) {
    if (p[i] < 0 || p[i] >= size) {
      OSPREY_THROW(value,
                   "{}: index value {} (at flat position {} of 'index') is out of range "
                   "for dim {} of input {}, which has size {}",
                   op, p[i], i, dim, input.describe(), size);
    }
  }
}

// Element offset, through `strides`, of position `flat` of a row-major walk over `shape`, with
// coordinate `dim` replaced by `dim_coord` when dim >= 0.
int64_t strided_offset(int64_t flat, const Shape& shape, const Shape& strides, int64_t dim,
                       int64_t dim_coord) {
  int64_t offset = 0;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    int64_t c = flat % shape[d];
    flat /= shape[d];
    offset += (d == dim ? dim_coord : c) * strides[d];
  }
  return offset;
}

// t[.., i, ..] along dim, without the dispatcher (the call's kernel key stays this kernel's).
Tensor select_alias(const Tensor& t, int64_t dim, int64_t i) {
  Shape shape = t.shape(), strides = t.strides();
  int64_t offset = t.offset() + i * strides[dim];
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return Tensor::from_storage(t.storage(), shape, strides, offset, t.dtype());
}

void index_select_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  Tensor idx = index_i64(ctx.input(1));
  check_indices("index_select", idx, input, dim);
  Shape shape = input.shape();
  shape[dim] = idx.numel();
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

// The tensor a flat loop writes: `out` itself, or a contiguous stand-in for a strided out=.
Tensor contiguous_target(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
}

template <typename T>
void gather_loop(const Tensor& input, const Tensor& idx, int64_t dim, const Tensor& out) {
  const int64_t n = idx.numel();
  const int64_t* p = idx.data<int64_t>();
  const T* in = input.data<T>();
  T* o = out.data<T>();
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    o[i] = in[strided_offset(i, idx.shape(), input.strides(), dim, p[i])];
  }
}

void gather_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  Tensor idx = index_i64(ctx.input(1));
  check_indices("gather", idx, input, dim);
  const Tensor& given = ctx.output(0, idx.shape(), input.dtype());
  Tensor out = contiguous_target(given);
  OSPREY_DISPATCH_ALL(input.dtype(), "gather",
                      [&]<typename T>() { gather_loop<T>(input, idx, dim, out); });
  if (!out.is_same(given)) cpu_convert_copy(given, out);
}

void scatter_add_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& src = ctx.input(2);
  const int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), input.dim());
  Tensor idx = index_i64(ctx.input(1));
  check_indices("scatter_add", idx, input, dim);
  const Tensor& out = ctx.output(0, input.shape(), input.dtype());
  cpu_convert_copy(out, input);
  const int64_t* p = idx.data<int64_t>();
  // Sequential: several positions may add into one element.
  OSPREY_DISPATCH_NUMERIC(input.dtype(), "scatter_add", [&]<typename T>() {
    const T* s = src.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < idx.numel(); ++i) {
      const int64_t so = strided_offset(i, idx.shape(), src.strides(), -1, 0);
      o[strided_offset(i, idx.shape(), out.strides(), dim, p[i])] += s[so];
    }
  });
}

void masked_select_kernel(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Tensor& mask = ctx.input(1);
  Shape shape = broadcast_shapes(input.shape(), mask.shape(), "masked_select");
  Shape in_strides = broadcast_strides(input, shape);
  Shape mask_strides = broadcast_strides(mask, shape);
  const int64_t n = shape_numel(shape);
  const auto* m = static_cast<const uint8_t*>(mask.raw_data());  // bool and u8: one byte, 0 or 1
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += m[strided_offset(i, shape, mask_strides, -1, 0)] != 0;
  const Tensor& given = ctx.output(0, {count}, input.dtype());
  Tensor out = contiguous_target(given);
  OSPREY_DISPATCH_ALL(input.dtype(), "masked_select", [&]<typename T>() {
    const T* in = input.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0, k = 0; i < n; ++i) {
      if (m[strided_offset(i, shape, mask_strides, -1, 0)]) {
        o[k++] = in[strided_offset(i, shape, in_strides, -1, 0)];
      }
    }
  });
  if (!out.is_same(given)) cpu_convert_copy(given, out);
}

const bool registered = [] {
  auto all = [](const KernelContext&) { return true; };
  register_kernel("index_select", DeviceType::cpu, "reference", 0, index_select_kernel, all,
                  "slice copies; one memcpy per slice when contiguous; any dtype");
  register_kernel("gather", DeviceType::cpu, "reference", 0, gather_kernel, all,
                  "strided element loop, parallel; any dtype");
  register_kernel("scatter_add", DeviceType::cpu, "reference", 0, scatter_add_kernel, all,
                  "copy of input, then a sequential strided accumulation loop");
  register_kernel("masked_select", DeviceType::cpu, "reference", 0, masked_select_kernel, all,
                  "two strided passes: count, then copy");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
