// CUDA kernels of roi_align (cuda/direct) and roi_align_backward (cuda/gather), f32 and f64, on
// the current stream. Inputs are made contiguous NCHW first; outputs in another layout are computed
// dense and copied in. The sampling rule is the CPU kernels' (roi_align_geometry.h).
//   forward: one thread per output element (RoI, channel, bin), consecutive threads on
//     consecutive bins of one channel, so the writes (the dominant traffic: K·C·PH·PW values)
//     coalesce; each thread sums its bin's samples, four pixels per sample. With a fixed
//     sampling ratio the samples come from a per-(RoI, bin) table computed first; adaptive
//     sampling (a per-RoI count) computes them in place.
//   backward: deterministic without atomics. Rather than scattering each bin's gradient onto its
//     pixels (torchvision: atomicAdd, order-dependent float sums), each thread owns one input pixel
//     of one image for kChannels channels and gathers: it walks the image's RoIs in RoI order
//     (ids grouped by image on the host), skips those whose pixel window (one small kernel
//     computes it per RoI) misses the pixel, and for the others adds the weight of the pixel in
//     each bin (only the bins whose samples can reach it) times the bin's gradient. Every sum has
//     a fixed order: two runs give bitwise equal gradients. A warp covers a 4 × 8 pixel tile.
//     cpu/gather (roi_align_gather_cpu.cc) runs the same per-pixel sums on the host, so the CPU
//     case-list comparison checks this algorithm without a GPU.
#include <algorithm>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/op_helpers.h"
#include "ops/common/roi_check.h"
#include "ops/roi_align/roi_align_geometry.h"

namespace osprey::ops {
namespace {

constexpr int kChannels = 8;  // channels per backward thread: the RoI walk is shared by them
// A warp of the backward covers a kTileH × kTileW pixel tile rather than 32 pixels of one row: a
// RoI's pixel window (typically ~10 pixels wide) then keeps more of the warp's lanes busy.
constexpr int kTileW = 8, kTileH = 4;

#define OSPREY_GRID_LOOP(index, count)                                              \
  for (int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; \
       index < (count); index += static_cast<int64_t>(gridDim.x) * blockDim.x)

struct Geo {
  int C, H, W, PH, PW, sampling;
  bool aligned;
};

// Index: the type of the element index, 32-bit when every index fits (the divisions that split
// it into (RoI, channel, bin) then cost a fraction of 64-bit ones).
template <typename T, typename Index>
__global__ void forward_kernel(Index total, Geo g, T scale, const T* x, const T* rois, T* out) {
  const Index PW = g.PW, PH = g.PH, C = g.C;
  for (Index e = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<Index>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % PW);
    const int i = static_cast<int>((e / PW) % PH);
    const Index kc = e / (PW * PH);
    const int c = static_cast<int>(kc % C);
    const int64_t k = kc / C;
    const T* roi = rois + 5 * k;
    const RoiGrid<T> r = roi_grid(roi, scale, g.aligned, g.PH, g.PW, g.sampling);
    const T* plane = x + (static_cast<int64_t>(roi[0]) * g.C + c) * g.H * g.W;
    T sum = 0;
    for (int a = 0; a < r.grid_h; ++a) {
      const AxisSample<T> ys =
          axis_sample(sample_coordinate(r.start_h, r.bin_h, i, a, r.grid_h), g.H);
      if (ys.w_low == T(0) && ys.w_high == T(0)) continue;
      const T* low = plane + ys.low * g.W;
      const T* high = plane + ys.high * g.W;
      for (int b = 0; b < r.grid_w; ++b) {
        const AxisSample<T> xs =
            axis_sample(sample_coordinate(r.start_w, r.bin_w, j, b, r.grid_w), g.W);
        sum += ys.w_low * (xs.w_low * low[xs.low] + xs.w_high * low[xs.high]) +
               ys.w_high * (xs.w_low * high[xs.low] + xs.w_high * high[xs.high]);
      }
    }
    const int count = r.grid_h * r.grid_w;
    out[e] = sum / static_cast<T>(count > 0 ? count : 1);
  }
}

// With a fixed sampling ratio s every RoI has s samples per bin and axis: one small kernel
// computes them once, (RoI, bin, sample) -> AxisSample, and the forward reads them instead of
// recomputing each RoI's grid and samples per output element (K·C·PH·PW threads).
template <typename T>
__global__ void samples_kernel(int64_t K, Geo g, T scale, const T* rois, AxisSample<T>* ys,
                               AxisSample<T>* xs) {
  const int s = g.sampling, per_roi = (g.PH + g.PW) * s;
  OSPREY_GRID_LOOP(e, K * per_roi) {
    const int64_t k = e / per_roi;
    const int r = static_cast<int>(e % per_roi);
    const RoiGrid<T> grid = roi_grid(rois + 5 * k, scale, g.aligned, g.PH, g.PW, s);
    if (r < g.PH * s) {
      ys[k * g.PH * s + r] =
          axis_sample(sample_coordinate(grid.start_h, grid.bin_h, r / s, r % s, s), g.H);
    } else {
      const int q = r - g.PH * s;
      xs[k * g.PW * s + q] =
          axis_sample(sample_coordinate(grid.start_w, grid.bin_w, q / s, q % s, s), g.W);
    }
  }
}

template <typename T, typename Index>
__global__ void forward_table_kernel(Index total, Geo g, const T* x, const T* rois,
                                     const AxisSample<T>* ys, const AxisSample<T>* xs, T* out) {
  const int s = g.sampling;
  const T inv = T(1) / static_cast<T>(s * s);
  const Index PW = g.PW, PH = g.PH, C = g.C;
  for (Index e = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<Index>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % PW);
    const int i = static_cast<int>((e / PW) % PH);
    const Index kc = e / (PW * PH);
    const int c = static_cast<int>(kc % C);
    const int64_t k = kc / C;
    const T* plane = x + (static_cast<int64_t>(rois[5 * k]) * g.C + c) * g.H * g.W;
    const AxisSample<T>* yk = ys + (k * g.PH + i) * s;
    const AxisSample<T>* xk = xs + (k * g.PW + j) * s;
    T sum = 0;
    for (int a = 0; a < s; ++a) {
      const AxisSample<T> y = yk[a];
      if (y.w_low == T(0) && y.w_high == T(0)) continue;
      const T* low = plane + y.low * g.W;
      const T* high = plane + y.high * g.W;
      for (int b = 0; b < s; ++b) {
        const AxisSample<T> q = xk[b];
        sum += y.w_low * (q.w_low * low[q.low] + q.w_high * low[q.high]) +
               y.w_high * (q.w_low * high[q.low] + q.w_high * high[q.high]);
      }
    }
    out[e] = sum * inv;
  }
}

template <typename T>
__global__ void window_kernel(int64_t K, Geo g, T scale, const T* rois, int4* windows) {
  OSPREY_GRID_LOOP(k, K) {
    const RoiGrid<T> r = roi_grid(rois + 5 * k, scale, g.aligned, g.PH, g.PW, g.sampling);
    int4 w;
    axis_window(r.start_h, r.bin_h, g.PH, r.grid_h, g.H, w.x, w.y);
    axis_window(r.start_w, r.bin_w, g.PW, r.grid_w, g.W, w.z, w.w);
    windows[k] = w;
  }
}

template <typename T>
__global__ void backward_kernel(int64_t total, Geo g, T scale, const T* grad, const T* rois,
                                const int64_t* start, const int64_t* ids, const int4* windows,
                                T* grad_input) {
  const int groups = (g.C + kChannels - 1) / kChannels;
  const int tiles_x = (g.W + kTileW - 1) / kTileW, tiles_y = (g.H + kTileH - 1) / kTileH;
  OSPREY_GRID_LOOP(e, total) {
    const int lane = static_cast<int>(e % (kTileW * kTileH));
    const int64_t tile = e / (kTileW * kTileH);
    const int w = static_cast<int>(tile % tiles_x) * kTileW + lane % kTileW;
    const int h = static_cast<int>((tile / tiles_x) % tiles_y) * kTileH + lane / kTileW;
    const int64_t ng = tile / (static_cast<int64_t>(tiles_x) * tiles_y);
    if (h >= g.H || w >= g.W) continue;  // the ragged edge of the last tiles
    const int c0 = static_cast<int>(ng % groups) * kChannels;
    const int64_t n = ng / groups;
    const int cn = min(kChannels, g.C - c0);
    T acc[kChannels];
#pragma unroll
    for (int t = 0; t < kChannels; ++t) acc[t] = 0;
    const int64_t bins = static_cast<int64_t>(g.PH) * g.PW;
    for (int64_t q = start[n]; q < start[n + 1]; ++q) {
      const int64_t k = ids[q];
      const int4 win = windows[k];
      if (h < win.x || h > win.y || w < win.z || w > win.w) continue;
      const RoiGrid<T> r = roi_grid(rois + 5 * k, scale, g.aligned, g.PH, g.PW, g.sampling);
      const int count = r.grid_h * r.grid_w;
      const T inv = T(1) / static_cast<T>(count > 0 ? count : 1);
      int i0, i1, j0, j1;
      bin_range(r.start_h, r.bin_h, g.PH, g.H, h, i0, i1);
      bin_range(r.start_w, r.bin_w, g.PW, g.W, w, j0, j1);
      const T* gk = grad + (k * g.C + c0) * bins;
      for (int i = i0; i < i1; ++i) {
        const T wy = axis_weight(r.start_h, r.bin_h, i, r.grid_h, g.H, h);
        if (wy == T(0)) continue;
        for (int j = j0; j < j1; ++j) {
          const T wx = axis_weight(r.start_w, r.bin_w, j, r.grid_w, g.W, w);
          if (wx == T(0)) continue;
          const T weight = wy * wx * inv;
          const T* gb = gk + i * g.PW + j;
#pragma unroll
          for (int t = 0; t < kChannels; ++t)
            if (t < cn) acc[t] += weight * gb[t * bins];
        }
      }
    }
    T* dst = grad_input + ((n * g.C + c0) * g.H + h) * g.W + w;
#pragma unroll
    for (int t = 0; t < kChannels; ++t)
      if (t < cn) dst[static_cast<int64_t>(t) * g.H * g.W] = acc[t];
  }
}

MemoryFormat format_of(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
             ? MemoryFormat::channels_last
             : MemoryFormat::contiguous;
}

Tensor dense_like(const Tensor& out) {
  return out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
}

Geo geo_of(const RoiAlignParams& p, const Shape& input) {
  return {static_cast<int>(input[1]),
          static_cast<int>(input[2]),
          static_cast<int>(input[3]),
          static_cast<int>(p.pooled_h),
          static_cast<int>(p.pooled_w),
          static_cast<int>(p.sampling_ratio),
          p.aligned};
}

using cuda_detail::blocks_for;
using cuda_detail::kThreads;

template <typename T>
void forward(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align");
  Tensor& out =
      ctx.output(0, p.output_shape(rois.size(0), x.size(1)), x.dtype(), format_of(ctx.input(0)));
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  const Geo g = geo_of(p, x.shape());
  const T scale = static_cast<T>(p.spatial_scale);
  cudaStream_t stream = cuda::current_stream();
  // 32-bit element indices when they fit, with room for the grid-stride step past the end.
  const bool narrow = res.numel() < (int64_t{1} << 31) - (int64_t{1} << 28);
  if (p.sampling_ratio > 0) {
    const int64_t K = rois.size(0);
    const Tensor ys =
        Tensor::empty({K * p.pooled_h * p.sampling_ratio * int64_t(sizeof(AxisSample<T>))},
                      DType::u8, x.device());
    const Tensor xs =
        Tensor::empty({K * p.pooled_w * p.sampling_ratio * int64_t(sizeof(AxisSample<T>))},
                      DType::u8, x.device());
    auto* y_samples = static_cast<AxisSample<T>*>(ys.raw_data());
    auto* x_samples = static_cast<AxisSample<T>*>(xs.raw_data());
    samples_kernel<T>
        <<<blocks_for(K * (p.pooled_h + p.pooled_w) * p.sampling_ratio), kThreads, 0, stream>>>(
            K, g, scale, rois.data<T>(), y_samples, x_samples);
    OSPREY_CUDA_LAUNCH_CHECK();
    if (narrow) {
      forward_table_kernel<T, int32_t><<<blocks_for(res.numel()), kThreads, 0, stream>>>(
          static_cast<int32_t>(res.numel()), g, x.data<T>(), rois.data<T>(), y_samples, x_samples,
          res.data<T>());
    } else {
      forward_table_kernel<T, int64_t><<<blocks_for(res.numel()), kThreads, 0, stream>>>(
          res.numel(), g, x.data<T>(), rois.data<T>(), y_samples, x_samples, res.data<T>());
    }
  } else if (narrow) {
    forward_kernel<T, int32_t><<<blocks_for(res.numel()), kThreads, 0, stream>>>(
        static_cast<int32_t>(res.numel()), g, scale, x.data<T>(), rois.data<T>(), res.data<T>());
  } else {
    forward_kernel<T, int64_t><<<blocks_for(res.numel()), kThreads, 0, stream>>>(
        res.numel(), g, scale, x.data<T>(), rois.data<T>(), res.data<T>());
  }
  OSPREY_CUDA_LAUNCH_CHECK();
  if (!res.is_same(out)) out.copy_(res);
}

template <typename T>
void backward(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const RoiAlignParams p = RoiAlignParams::from(ctx.attrs(), "roi_align_backward");
  const Shape size = ctx.attrs().get_ints("input_size");
  Tensor& out = ctx.output(0, size, grad.dtype(), format_of(ctx.input(0)));
  // The one host copy of the RoIs: validate left their values to this check (roi_check.h).
  const RoiGroupsOnDevice groups = checked_roi_groups(
      rois, size[0], "grad_output " + ctx.input(0).describe(), "roi_align_backward");
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  cudaStream_t stream = cuda::current_stream();
  const int64_t K = rois.size(0), N = size[0];
  const Tensor windows = Tensor::empty({std::max<int64_t>(K, 1) * 4}, DType::i32, grad.device());
  const Geo g = geo_of(p, size);
  const T scale = static_cast<T>(p.spatial_scale);
  if (K > 0) {
    window_kernel<T><<<blocks_for(K), kThreads, 0, stream>>>(
        K, g, scale, rois.data<T>(), static_cast<int4*>(windows.raw_data()));
    OSPREY_CUDA_LAUNCH_CHECK();
  }
  const int64_t tiles = ((size[2] + kTileH - 1) / kTileH) * ((size[3] + kTileW - 1) / kTileW);
  const int64_t total = N * ((size[1] + kChannels - 1) / kChannels) * tiles * kTileW * kTileH;
  backward_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(
      total, g, scale, grad.data<T>(), rois.data<T>(), groups.start.data<int64_t>(),
      groups.ids.data<int64_t>(), static_cast<const int4*>(windows.raw_data()), res.data<T>());
  OSPREY_CUDA_LAUNCH_CHECK();
  if (!res.is_same(out)) out.copy_(res);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) { return inputs_are_float(ctx); };
  register_kernel("roi_align", DeviceType::cuda, "direct", 10,
                  on_cuda_by_float_dtype<forward<float>, forward<double>>, fp,
                  "one thread per output bin, coalesced writes");
  register_kernel("roi_align_backward", DeviceType::cuda, "gather", 10,
                  on_cuda_by_float_dtype<backward<float>, backward<double>>, fp,
                  "one thread per input pixel and 8 channels gathering over the image's RoIs in "
                  "order: deterministic, no atomics");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
