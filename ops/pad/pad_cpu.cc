// CPU reference kernels of pad and pad_backward: one loop over the output's elements in row-major
// order, each mapped dim by dim to its source element (pad_geometry.h) and read through the
// input's strides, so any layout works. pad_backward accumulates in double into a zeroed
// contiguous buffer, serially (reflect and replicate send several outputs to one source).
// rows: pad over rows of the last dim in parallel, each row's source row found once.
#include <algorithm>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/pad/pad_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

using pad_detail::pad_geometry;
using pad_detail::PadGeometry;
using pad_detail::source_index;

// Calls visit(output_index, source_offset) for every output element, source_offset in elements
// along `strides` (strides of a tensor of g.input_shape), or -1 where constant mode fills in.
template <typename Visit>
void for_each_output(const PadGeometry& g, const Shape& strides, Visit visit) {
  const auto ndim = static_cast<int64_t>(g.output_shape.size());
  const int64_t n = shape_numel(g.output_shape);
  std::vector<int64_t> index(ndim, 0);
  for (int64_t o = 0; o < n; ++o) {
    int64_t offset = 0;
    for (int64_t d = 0; d < ndim && offset >= 0; ++d) {
      const int64_t j = source_index(g.mode, index[d] - g.left[d], g.input_shape[d]);
      offset = j < 0 ? -1 : offset + j * strides[d];
    }
    visit(o, offset);
    for (int64_t d = ndim - 1; d >= 0; --d) {
      if (++index[d] < g.output_shape[d]) break;
      index[d] = 0;
    }
  }
}

void pad_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const PadGeometry g = pad_geometry(input.shape(), ctx.attrs().get_ints("pad"),
                                     ctx.attrs().get_string("mode"), "pad");
  const double value = ctx.attrs().get_float("value");
  const Tensor& out = ctx.output(0, g.output_shape, input.dtype());
  OSPREY_DISPATCH_FLOAT(input.dtype(), "pad", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    const T* src = input.data<T>();
    for_each_output(g, input.strides(), [&](int64_t o, int64_t offset) {
      dst[o] = offset < 0 ? T(value) : src[offset];
    });
    cpu_store<T>(out, result);
  });
}

// body(i) for i in [0, n), OpenMP above `serial_below` iterations. Kept out of the dtype-dispatch
// lambdas, where a #pragma cannot appear (they are macro arguments).
template <typename Body>
void parallel_for(int64_t n, int64_t serial_below, Body body) {
#pragma omp parallel for schedule(static) if (n >= serial_below)
  for (int64_t i = 0; i < n; ++i) body(i);
}

// Output rows (all dims but the last) in parallel: a row either lies in constant padding or reads
// one source row, along which the last dim maps element by element.
void pad_rows(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const PadGeometry g = pad_geometry(input.shape(), ctx.attrs().get_ints("pad"),
                                     ctx.attrs().get_string("mode"), "pad");
  const double value = ctx.attrs().get_float("value");
  const Tensor& out = ctx.output(0, g.output_shape, input.dtype());
  const auto ndim = static_cast<int64_t>(g.output_shape.size());
  if (ndim == 0 || out.numel() == 0) return pad_reference(ctx);
  const int64_t width = g.output_shape[ndim - 1], in_width = g.input_shape[ndim - 1];
  const int64_t rows = out.numel() / width, left = g.left[ndim - 1];
  const Shape& strides = input.strides();
  OSPREY_DISPATCH_FLOAT(input.dtype(), "pad", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    const T* src = input.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 32768 / width), [&](int64_t row) {
      int64_t base = 0, rest = row;
      for (int64_t d = ndim - 2; d >= 0 && base >= 0; --d) {
        const int64_t o = rest % g.output_shape[d];
        rest /= g.output_shape[d];
        const int64_t j = source_index(g.mode, o - g.left[d], g.input_shape[d]);
        base = j < 0 ? -1 : base + j * strides[d];
      }
      T* line = dst + row * width;
      for (int64_t w = 0; w < width; ++w) {
        const int64_t j = base < 0 ? -1 : source_index(g.mode, w - left, in_width);
        line[w] = j < 0 ? T(value) : src[base + j * strides[ndim - 1]];
      }
    });
    cpu_store<T>(out, result);
  });
}

void pad_backward_reference(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const PadGeometry g = pad_geometry(input_size, ctx.attrs().get_ints("pad"),
                                     ctx.attrs().get_string("mode"), "pad_backward");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  OSPREY_DISPATCH_FLOAT(grad.dtype(), "pad_backward", [&]<typename T>() {
    std::vector<double> sums(static_cast<size_t>(shape_numel(input_size)), 0.0);
    const T* g_out = grad.data<T>();
    Tensor result = cpu_scratch_for(out);
    for_each_output(g, contiguous_strides(input_size), [&](int64_t o, int64_t offset) {
      if (offset >= 0) sums[static_cast<size_t>(offset)] += static_cast<double>(g_out[o]);
    });
    T* dst = result.data<T>();
    for (size_t i = 0; i < sums.size(); ++i) dst[i] = static_cast<T>(sums[i]);
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("pad", DeviceType::cpu, "reference", 0, pad_reference, {},
                  "serial loop over output elements, strided reads");
  register_kernel("pad", DeviceType::cpu, "rows", 10, pad_rows, {},
                  "OpenMP over output rows, each source row located once");
  register_kernel("pad_backward", DeviceType::cpu, "reference", 0, pad_backward_reference, {},
                  "serial scatter-add in double");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
