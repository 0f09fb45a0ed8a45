// CUDA kernels of roi_pool and roi_pool_backward (cuda/direct), f32 and f64, on the current
// stream; inputs made contiguous NCHW, outputs in another layout computed dense and copied in.
//   forward: one thread per output element (RoI, channel, bin), the bin rule of
//     roi_pool_geometry.h, the first maximum in row-major order wins (as on the CPU).
//   backward: one thread per (image, channel) plane adds the gradient of that image's RoIs (in
//     RoI order, ids grouped by image on the host) at their argmax: deterministic, no atomics.
#include <algorithm>
#include <cfloat>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/op_helpers.h"
#include "ops/common/roi_check.h"
#include "ops/roi_pool/roi_pool_geometry.h"

namespace osprey::ops {
namespace {

#define OSPREY_GRID_LOOP(index, count)                                              \
  for (int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; \
       index < (count); index += static_cast<int64_t>(gridDim.x) * blockDim.x)

template <typename T>
__device__ T lowest();
template <>
__device__ float lowest<float>() {
  return -FLT_MAX;
}
template <>
__device__ double lowest<double>() {
  return -DBL_MAX;
}

template <typename T>
__global__ void forward_kernel(int64_t total, int C, int H, int W, int PH, int PW, T scale,
                               const T* x, const T* rois, T* out, int64_t* argmax) {
  OSPREY_GRID_LOOP(e, total) {
    const int j = static_cast<int>(e % PW);
    const int i = static_cast<int>((e / PW) % PH);
    const int64_t kc = e / (static_cast<int64_t>(PW) * PH);
    const int c = static_cast<int>(kc % C);
    const int64_t k = kc / C;
    const T* roi = rois + 5 * k;
    const PoolBin b = roi_pool_bin(roi, scale, PH, PW, i, j, H, W);
    const T* plane = x + (static_cast<int64_t>(roi[0]) * C + c) * H * W;
    T best = b.empty() ? T(0) : lowest<T>();
    int64_t best_index = -1;
    for (int h = b.h0; h < b.h1; ++h)
      for (int w = b.w0; w < b.w1; ++w) {
        const T v = plane[h * W + w];
        if (v > best) {
          best = v;
          best_index = static_cast<int64_t>(h) * W + w;
        }
      }
    out[e] = best;
    argmax[e] = best_index;
  }
}

template <typename T>
__global__ void backward_kernel(int64_t planes, int C, int64_t plane_size, int64_t bins,
                                const T* grad, const int64_t* argmax, const int64_t* start,
                                const int64_t* ids, T* grad_input) {
  OSPREY_GRID_LOOP(e, planes) {
    const int64_t n = e / C, c = e % C;
    T* dst = grad_input + e * plane_size;
    for (int64_t p = 0; p < plane_size; ++p) dst[p] = T(0);
    for (int64_t q = start[n]; q < start[n + 1]; ++q) {
      const int64_t at = (ids[q] * C + c) * bins;
      for (int64_t b = 0; b < bins; ++b) {
        const int64_t index = argmax[at + b];
        if (index >= 0) dst[index] += grad[at + b];
      }
    }
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

using cuda_detail::blocks_for;
using cuda_detail::kThreads;

template <typename T>
void forward(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const RoiPoolParams p = RoiPoolParams::from(ctx.attrs(), "roi_pool");
  const Shape shape{rois.size(0), x.size(1), p.pooled_h, p.pooled_w};
  const MemoryFormat format = format_of(ctx.input(0));
  Tensor& out = ctx.output(0, shape, x.dtype(), format);
  Tensor& argmax = ctx.output(1, shape, DType::i64, format);
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out), idx = dense_like(argmax);
  forward_kernel<T><<<blocks_for(res.numel()), kThreads, 0, cuda::current_stream()>>>(
      res.numel(), static_cast<int>(x.size(1)), static_cast<int>(x.size(2)),
      static_cast<int>(x.size(3)), static_cast<int>(p.pooled_h), static_cast<int>(p.pooled_w),
      static_cast<T>(p.spatial_scale), x.data<T>(), rois.data<T>(), res.data<T>(),
      idx.data<int64_t>());
  OSPREY_CUDA_LAUNCH_CHECK();
  if (!res.is_same(out)) out.copy_(res);
  if (!idx.is_same(argmax)) argmax.copy_(idx);
}

template <typename T>
void backward(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const Tensor argmax = ctx.input(2).contiguous();
  const Shape size = ctx.attrs().get_ints("input_size");
  Tensor& out = ctx.output(0, size, grad.dtype(), format_of(ctx.input(0)));
  // The one host copy of the RoIs: validate left their values to this check (roi_check.h).
  const RoiGroupsOnDevice groups = checked_roi_groups(
      rois, size[0], "grad_output " + ctx.input(0).describe(), "roi_pool_backward");
  if (out.numel() == 0) return;
  const Tensor res = dense_like(out);
  const int64_t planes = size[0] * size[1];
  backward_kernel<T><<<blocks_for(planes), kThreads, 0, cuda::current_stream()>>>(
      planes, static_cast<int>(size[1]), size[2] * size[3], grad.size(2) * grad.size(3),
      grad.data<T>(), argmax.data<int64_t>(), groups.start.data<int64_t>(),
      groups.ids.data<int64_t>(), res.data<T>());
  OSPREY_CUDA_LAUNCH_CHECK();
  if (!res.is_same(out)) out.copy_(res);
}

const bool registered = [] {
  auto fp = [](const KernelContext& ctx) {
    return ctx.input(0).dtype() == DType::f32 || ctx.input(0).dtype() == DType::f64;
  };
  register_kernel("roi_pool", DeviceType::cuda, "direct", 10,
                  on_cuda_by_float_dtype<forward<float>, forward<double>>, fp,
                  "one thread per output bin");
  register_kernel("roi_pool_backward", DeviceType::cuda, "direct", 10,
                  on_cuda_by_float_dtype<backward<float>, backward<double>>, fp,
                  "one thread per (image, channel) plane, RoIs in order: deterministic, no "
                  "atomics");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
