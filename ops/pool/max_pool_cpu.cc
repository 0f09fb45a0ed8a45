// CPU kernels of max_pool2d and max_pool2d_backward. reference: direct loops over every output
// element and its window, reading inputs through their strides (any layout), writing contiguous
// NCHW; the backward scatter is serial. planes: the same per plane, in parallel (each window and
// its maximum lie in one plane, so planes never race).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

void max_pool_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "max_pool2d");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  const Tensor& out_indices = ctx.output(1, g.output_shape(), DType::i64);
  OSPREY_DISPATCH_FLOAT(input.dtype(), "max_pool2d", [&]<typename T>() {
    Tensor values = cpu_scratch_for(out);
    Tensor indices = cpu_scratch_for(out_indices);
    T* dst = values.data<T>();
    int64_t* idx = indices.data<int64_t>();
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    int64_t o = 0;
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t c = 0; c < g.channels; ++c) {
        for (int64_t i = 0; i < g.out_h; ++i) {
          for (int64_t j = 0; j < g.out_w; ++j, ++o) {
            T best = -std::numeric_limits<T>::infinity();
            int64_t best_index = -1;  // stays -1 only if the window misses the input entirely
            for (int64_t a = 0; a < g.kernel_h; ++a) {
              const int64_t h = i * g.stride_h - g.pad_h + a * g.dilation_h;
              if (h < 0 || h >= g.in_h) continue;
              for (int64_t b = 0; b < g.kernel_w; ++b) {
                const int64_t w = j * g.stride_w - g.pad_w + b * g.dilation_w;
                if (w < 0 || w >= g.in_w) continue;
                const T v = src[offset4(st, n, c, h, w)];
                // The first element seeds the search; NaN wins over numbers, as in PyTorch.
                if (best_index < 0 || v > best || std::isnan(v)) {
                  best = v;
                  best_index = h * g.in_w + w;
                }
              }
            }
            dst[o] = best;
            idx[o] = best_index;
          }
        }
      }
    }
    cpu_store<T>(out, values);
    cpu_store<int64_t>(out_indices, indices);
  });
}

void max_pool_backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  const int64_t plane = input_size[2] * input_size[3];
  OSPREY_DISPATCH_FLOAT(grad.dtype(), "max_pool2d_backward", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    std::fill(dst, dst + result.numel(), T(0));
    const T* src = grad.data<T>();
    const int64_t* idx = indices.data<int64_t>();
    const Shape& gs = grad.strides();
    const Shape& is = indices.strides();
    for (int64_t n = 0; n < grad.size(0); ++n) {
      for (int64_t c = 0; c < grad.size(1); ++c) {
        T* dst_plane = dst + (n * input_size[1] + c) * plane;
        for (int64_t i = 0; i < grad.size(2); ++i) {
          for (int64_t j = 0; j < grad.size(3); ++j) {
            const int64_t k = idx[offset4(is, n, c, i, j)];
            if (k < 0) continue;  // a window that held no input element
            OSPREY_CHECK(k < plane, "max_pool2d_backward: index {} is out of range [0, {})", k,
                         plane);
            dst_plane[k] += src[offset4(gs, n, c, i, j)];
          }
        }
      }
    }
    cpu_store<T>(out, result);
  });
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

// The same search as the reference (same order, so the same winner and index), with the window
// clipped up front instead of per element, and OpenMP over the N*C planes.
void max_pool_planes(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "max_pool2d");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  const Tensor& out_indices = ctx.output(1, g.output_shape(), DType::i64);
  OSPREY_DISPATCH_FLOAT(input.dtype(), "max_pool2d", [&]<typename T>() {
    Tensor values = cpu_scratch_for(out);
    Tensor indices = cpu_scratch_for(out_indices);
    T* dst = values.data<T>();
    int64_t* idx = indices.data<int64_t>();
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    const int64_t planes = g.batch * g.channels, plane_out = g.out_h * g.out_w;
    // The clipped column ranges are the same in every row and plane: computed once, not with two
    // integer divisions per output element.
    std::vector<std::pair<int64_t, int64_t>> cols(static_cast<size_t>(g.out_w));
    for (int64_t j = 0; j < g.out_w; ++j)
      cols[size_t(j)] = inside(j * g.stride_w - g.pad_w, g.kernel_w, g.dilation_w, g.in_w);
    // Dense rows, stride 2 across, no dilation (ResNet's stem pooling): a row of windows at a
    // time, one tap after another (the same order within each window as the reference). One
    // window at a time was ~5% of a ResNet-18 training step: scalar compares, ~8 cycles a tap.
    const bool rows_of_windows =
        st[3] == 1 && g.stride_w == 2 && g.dilation_w == 1 && g.in_h * g.in_w < (int64_t(1) << 31);
    if (rows_of_windows) {
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
      cpu_store<T>(out, values);
      cpu_store<int64_t>(out_indices, indices);
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
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_index = -1;
          for (int64_t a = a0; a < a1; ++a) {
            const int64_t h = hs + a * g.dilation_h;
            for (int64_t b = b0; b < b1; ++b) {
              const int64_t w = ws + b * g.dilation_w;
              const T v = in[h * st[2] + w * st[3]];
              if (best_index < 0 || v > best || std::isnan(v)) {
                best = v;
                best_index = h * g.in_w + w;
              }
            }
          }
          dst[p * plane_out + i * g.out_w + j] = best;
          idx[p * plane_out + i * g.out_w + j] = best_index;
        }
      }
    });
    cpu_store<T>(out, values);
    cpu_store<int64_t>(out_indices, indices);
  });
}

// Each window's maximum lies in its own plane, so planes scatter independently in parallel.
void max_pool_backward_planes(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  const int64_t plane = input_size[2] * input_size[3];
  OSPREY_DISPATCH_FLOAT(grad.dtype(), "max_pool2d_backward", [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    T* dst = result.data<T>();
    const T* src = grad.data<T>();
    const int64_t* idx = indices.data<int64_t>();
    const Shape& gs = grad.strides();
    const Shape& is = indices.strides();
    const int64_t channels = grad.size(1), planes = grad.size(0) * channels;
    std::atomic<bool> out_of_range = false;
    for_each_plane(planes, planes * plane, [&](int64_t p) {
      const int64_t n = p / channels, c = p % channels;
      T* dst_plane = dst + p * plane;
      std::fill(dst_plane, dst_plane + plane, T(0));
      for (int64_t i = 0; i < grad.size(2); ++i) {
        for (int64_t j = 0; j < grad.size(3); ++j) {
          const int64_t k = idx[offset4(is, n, c, i, j)];
          if (k < 0) continue;
          if (k >= plane) {
            out_of_range = true;
            continue;
          }
          dst_plane[k] += src[offset4(gs, n, c, i, j)];
        }
      }
    });
    OSPREY_CHECK(!out_of_range, "max_pool2d_backward: an index is out of range [0, {})", plane);
    cpu_store<T>(out, result);
  });
}

const bool registered = [] {
  register_kernel("max_pool2d", DeviceType::cpu, "reference", 0, max_pool_reference, {},
                  "direct loops over each window");
  register_kernel("max_pool2d_backward", DeviceType::cpu, "reference", 0,
                  max_pool_backward_reference, {}, "serial scatter-add into each plane");
  register_kernel("max_pool2d", DeviceType::cpu, "planes", 10, max_pool_planes, {},
                  "pre-clipped windows, OpenMP over planes");
  register_kernel("max_pool2d_backward", DeviceType::cpu, "planes", 10, max_pool_backward_planes,
                  {}, "scatter-add, OpenMP over planes");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
