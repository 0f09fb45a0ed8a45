// CPU kernels of max_pool2d and max_pool2d_backward. reference: direct loops over every output
// element and its window, reading inputs through their strides (any layout), writing contiguous
// NCHW; the backward scatter is serial, plane after plane. planes: pre-clipped windows and the same
// scatter code, in parallel over planes (each window and its maximum lie in one plane, so planes
// never race).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "ops/common/cpu_output.h"
#include "ops/common/op_helpers.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// What both forward kernels do around their search: the geometry, contiguous value and index
// buffers, and the store into the outputs. search(g, src, strides, dst, idx) fills the buffers
// (NCHW order) from the input read through its strides.
template <typename Search>
void max_pool_forward(KernelContext& ctx, Search search) {
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "max_pool2d");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  const Tensor& out_indices = ctx.output(1, g.output_shape(), DType::i64);
  OSPREY_DISPATCH_FLOAT(input.dtype(), "max_pool2d", [&]<typename T>() {
    Tensor values = cpu_scratch_for(out);
    Tensor indices = cpu_scratch_for(out_indices);
    search(g, input.data<T>(), input.strides(), values.data<T>(), indices.data<int64_t>());
    cpu_store<T>(out, values);
    cpu_store<int64_t>(out_indices, indices);
  });
}

// The reference search: direct loops over every output element and its window, each window
// element checked against the input's bounds.
template <typename T>
void search_reference(const Pool2d& g, const T* src, const Shape& st, T* dst, int64_t* idx) {
  int64_t o = 0;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t c = 0; c < g.channels; ++c) {
      for (int64_t i = 0; i < g.out_h; ++i) {
        for (int64_t j = 0; j < g.out_w; ++j, ++o) {
          WindowMax<T> m;
          for (int64_t a = 0; a < g.kernel_h; ++a) {
            const int64_t h = i * g.stride_h - g.pad_h + a * g.dilation_h;
            if (h < 0 || h >= g.in_h) continue;
            for (int64_t b = 0; b < g.kernel_w; ++b) {
              const int64_t w = j * g.stride_w - g.pad_w + b * g.dilation_w;
              if (w < 0 || w >= g.in_w) continue;
              m.add(src[offset4(st, n, c, h, w)], h * g.in_w + w);
            }
          }
          dst[o] = m.best;
          idx[o] = m.index;
        }
      }
    }
  }
}

// First and one-past-last window element a (of `kernel`, spaced `dilation`, starting at `start`)
// that lands inside [0, size).
std::pair<int64_t, int64_t> inside(int64_t start, int64_t kernel, int64_t dilation, int64_t size) {
  const int64_t first = start < 0 ? (-start + dilation - 1) / dilation : 0;
  const int64_t last = size - start <= 0 ? 0 : (size - start + dilation - 1) / dilation;
  return {first, std::max(first, std::min(kernel, last))};
}

// One tap (row h, window column b) of a row of windows with horizontal stride 2 over a dense
// input row, for output columns [j0, j1): the reference's rule per window, as selects over
// independent columns so that the compiler vectorises it (the row pointers cannot alias).
template <typename T>
void max_tap_stride2(const T* __restrict row, T* __restrict best, int32_t* __restrict index,
                     int64_t j0, int64_t j1, int64_t w0, int32_t row_base) {
  for (int64_t j = j0; j < j1; ++j) {
    const int64_t w = 2 * j + w0;
    const T v = row[w];
    const bool take = (index[j] < 0) | (v > best[j]) | (v != v);
    best[j] = take ? v : best[j];
    index[j] = take ? row_base + int32_t(w) : index[j];
  }
}

// Dense rows, stride 2 across, no dilation (ResNet's stem pooling): a row of windows at a time,
// one tap after another (the same order within each window as the reference). One window at a
// time was ~5% of a ResNet-18 training step: scalar compares, ~8 cycles a tap.
template <typename T>
void search_rows_of_windows(const Pool2d& g, const T* src, const Shape& st, T* dst, int64_t* idx,
                            const std::vector<std::pair<int64_t, int64_t>>& cols) {
  const int64_t planes = g.batch * g.channels, plane_out = g.out_h * g.out_w;
  // Output columns [lo, hi) whose window holds column tap b.
  std::vector<std::pair<int64_t, int64_t>> taps(static_cast<size_t>(g.kernel_w));
  for (int64_t b = 0; b < g.kernel_w; ++b) {
    int64_t lo = g.out_w, hi = 0;
    for (int64_t j = 0; j < g.out_w; ++j) {
      if (b >= cols[size_t(j)].first && b < cols[size_t(j)].second) {
        lo = std::min(lo, j);
        hi = std::max(hi, j + 1);
      }
    }
    taps[size_t(b)] = {lo, std::max(lo, hi)};
  }
  for_each_plane(planes, planes * plane_out, [&](int64_t p) {
    const T* in = src + offset4(st, p / g.channels, p % g.channels, 0, 0);
    std::vector<T> best(static_cast<size_t>(g.out_w));
    std::vector<int32_t> index(static_cast<size_t>(g.out_w));
    for (int64_t i = 0; i < g.out_h; ++i) {
      const int64_t hs = i * g.stride_h - g.pad_h;
      const auto [a0, a1] = inside(hs, g.kernel_h, g.dilation_h, g.in_h);
      std::fill(best.begin(), best.end(), -std::numeric_limits<T>::infinity());
      std::fill(index.begin(), index.end(), -1);
      for (int64_t a = a0; a < a1; ++a) {
        const int64_t h = hs + a * g.dilation_h;
        for (int64_t b = 0; b < g.kernel_w; ++b) {
          max_tap_stride2(in + h * st[2], best.data(), index.data(), taps[size_t(b)].first,
                          taps[size_t(b)].second, b - g.pad_w, int32_t(h * g.in_w));
        }
      }
      T* d = dst + p * plane_out + i * g.out_w;
      int64_t* x = idx + p * plane_out + i * g.out_w;
      for (int64_t j = 0; j < g.out_w; ++j) {
        d[j] = best[size_t(j)];
        x[j] = index[size_t(j)];
      }
    }
  });
}

// The same search as the reference (same order, so the same winner and index), with the window
// clipped up front instead of per element, and OpenMP over the N*C planes.
template <typename T>
void search_planes(const Pool2d& g, const T* src, const Shape& st, T* dst, int64_t* idx) {
  const int64_t planes = g.batch * g.channels, plane_out = g.out_h * g.out_w;
  // The clipped column ranges are the same in every row and plane: computed once, not with two
  // integer divisions per output element.
  std::vector<std::pair<int64_t, int64_t>> cols(static_cast<size_t>(g.out_w));
  for (int64_t j = 0; j < g.out_w; ++j)
    cols[size_t(j)] = inside(j * g.stride_w - g.pad_w, g.kernel_w, g.dilation_w, g.in_w);
  if (st[3] == 1 && g.stride_w == 2 && g.dilation_w == 1 && g.in_h * g.in_w < (int64_t(1) << 31)) {
    search_rows_of_windows(g, src, st, dst, idx, cols);
    return;
  }
  for_each_plane(planes, planes * plane_out, [&](int64_t p) {
    const T* in = src + offset4(st, p / g.channels, p % g.channels, 0, 0);
    for (int64_t i = 0; i < g.out_h; ++i) {
      const int64_t hs = i * g.stride_h - g.pad_h;
      const auto [a0, a1] = inside(hs, g.kernel_h, g.dilation_h, g.in_h);
      for (int64_t j = 0; j < g.out_w; ++j) {
        const int64_t ws = j * g.stride_w - g.pad_w;
        const auto [b0, b1] = cols[size_t(j)];
        WindowMax<T> m;
        for (int64_t a = a0; a < a1; ++a) {
          const int64_t h = hs + a * g.dilation_h;
          for (int64_t b = b0; b < b1; ++b) {
            const int64_t w = ws + b * g.dilation_w;
            m.add(in[h * st[2] + w * st[3]], h * g.in_w + w);
          }
        }
        dst[p * plane_out + i * g.out_w + j] = m.best;
        idx[p * plane_out + i * g.out_w + j] = m.index;
      }
    }
  });
}

void max_pool_reference(KernelContext& ctx) {
  max_pool_forward(ctx, [](const Pool2d& g, const auto* src, const Shape& st, auto* dst,
                           int64_t* idx) { search_reference(g, src, st, dst, idx); });
}

void max_pool_planes(KernelContext& ctx) {
  max_pool_forward(ctx, [](const Pool2d& g, const auto* src, const Shape& st, auto* dst,
                           int64_t* idx) { search_planes(g, src, st, dst, idx); });
}

// The scatter of grad into each window's maximum. Each window's maximum lies in its own plane, so
// planes scatter independently: the reference runs them one after another, cpu/planes in parallel.
void max_pool_backward(KernelContext& ctx, bool parallel) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  const int64_t plane = input_size[2] * input_size[3];
  with_cpu_output(out, grad.dtype(), "max_pool2d_backward", [&]<typename T>(T* dst) {
    const T* src = grad.data<T>();
    const int64_t* idx = indices.data<int64_t>();
    const Shape& gs = grad.strides();
    const Shape& is = indices.strides();
    const int64_t channels = grad.size(1), planes = grad.size(0) * channels;
    std::atomic<int64_t> out_of_range = -1;  // an index >= plane, reported after the loops
    for_each_plane(planes, parallel ? planes * plane : 0, [&](int64_t p) {
      const int64_t n = p / channels, c = p % channels;
      T* dst_plane = dst + p * plane;
      std::fill(dst_plane, dst_plane + plane, T(0));
      for (int64_t i = 0; i < grad.size(2); ++i) {
        for (int64_t j = 0; j < grad.size(3); ++j) {
          const int64_t k = idx[offset4(is, n, c, i, j)];
          if (k < 0) continue;  // a window that held no input element
          if (k >= plane) {
            out_of_range = k;
            continue;
          }
          dst_plane[k] += src[offset4(gs, n, c, i, j)];
        }
      }
    });
    OSPREY_CHECK(out_of_range < 0, "max_pool2d_backward: index {} is out of range [0, {})",
                 out_of_range.load(), plane);
  });
}

const bool registered = [] {
  register_kernel("max_pool2d", DeviceType::cpu, "reference", 0, max_pool_reference, {},
                  "direct loops over each window");
  register_kernel(
      "max_pool2d_backward", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) { max_pool_backward(ctx, false); }, {},
      "serial scatter-add into each plane");
  register_kernel("max_pool2d", DeviceType::cpu, "planes", 10, max_pool_planes, {},
                  "pre-clipped windows, OpenMP over planes");
  register_kernel(
      "max_pool2d_backward", DeviceType::cpu, "planes", 10,
      [](KernelContext& ctx) { max_pool_backward(ctx, true); }, {},
      "scatter-add, OpenMP over planes");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
