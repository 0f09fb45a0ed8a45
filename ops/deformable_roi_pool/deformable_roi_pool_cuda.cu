// cuda/native kernels of deformable_roi_pool and deformable_roi_pool_backward (math in
// deformable_roi_pool.h), placing samples with deformable_roi_pool_geometry.h like the CPU
// reference.
//   forward: one thread per output element (RoI, channel, bin), the bin's samples in the
//     reference's order.
//   backward, deterministic (no floating-point atomics, the same summation order on every run):
//     the geometry (rois and offsets, K x 5 and K x 2 x ph x pw values) is copied to the host,
//     which lists every valid sample's four bilinear corners as (bin, weight) entries grouped by
//     input pixel (a stable counting sort, so each pixel's list is in the reference's (RoI, bin,
//     sample) order); one thread per input-gradient element then gathers its pixel's list for its
//     channel. The offset gradient is one thread per (RoI, bin) summing over channels and samples.
//     The host step costs a device synchronisation and O(K · bins · S²) host work per call.
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "framework/cuda/check.h"
#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/deformable_roi_pool/deformable_roi_pool_geometry.h"

namespace osprey::ops {
namespace {

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

template <typename T>
__global__ void forward_bins(droi::Geometry g, int64_t total, const T* x, const T* rois,
                             const T* offset, T* out) {
  const int64_t bins = g.bins(), plane = g.height * g.width;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pw = i % g.pooled_w, ph = (i / g.pooled_w) % g.pooled_h;
    const int64_t c = (i / bins) % g.channels, k = i / (bins * g.channels);
    const droi::Bin<T> b =
        droi::bin_of(g, rois + 5 * k, offset ? offset + k * 2 * bins : nullptr, ph, pw);
    const int64_t count = droi::valid_samples(g, b);
    const T* src = x + (b.batch * g.channels + c) * plane;
    T sum = 0;
    for (int64_t ih = 0; ih < g.samples; ++ih) {
      for (int64_t iw = 0; iw < g.samples; ++iw) {
        const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
        if (s.valid) sum += droi::bilinear(src, g.width, s);
      }
    }
    out[i] = count > 0 ? sum / static_cast<T>(count) : T(0);
  }
}

// grad_input[n, c, p] = Σ_{e in pixel (n, p)'s list} weight[e] · grad[k_e, c, bin_e] / count[src_e]
template <typename T>
__global__ void gather_input_grad(droi::Geometry g, int64_t total, const int64_t* row_ptr,
                                  const int64_t* src, const T* weight, const T* count,
                                  const T* grad, T* out) {
  const int64_t bins = g.bins(), plane = g.height * g.width;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i % plane, c = (i / plane) % g.channels, n = i / (plane * g.channels);
    const int64_t key = n * plane + p;
    T sum = 0;
    for (int64_t e = row_ptr[key]; e < row_ptr[key + 1]; ++e) {
      const int64_t k = src[e] / bins, bin = src[e] % bins;
      const T diff = grad[(k * g.channels + c) * bins + bin] / count[src[e]];
      sum += weight[e] * diff;
    }
    out[i] = sum;
  }
}

template <typename T>
__global__ void offset_grad(droi::Geometry g, int64_t total, const T* x, const T* rois,
                            const T* offset, const T* grad, T* out) {
  const int64_t bins = g.bins(), plane = g.height * g.width;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t bin = i % bins, k = i / bins;
    const int64_t ph = bin / g.pooled_w, pw = bin % g.pooled_w;
    const droi::Bin<T> b =
        droi::bin_of(g, rois + 5 * k, offset ? offset + k * 2 * bins : nullptr, ph, pw);
    const int64_t count = droi::valid_samples(g, b);
    T dw_sum = 0, dh_sum = 0;
    if (count > 0 && offset) {
      for (int64_t c = 0; c < g.channels; ++c) {
        const T diff = grad[(k * g.channels + c) * bins + bin] / static_cast<T>(count);
        const T* src = x + (b.batch * g.channels + c) * plane;
        for (int64_t ih = 0; ih < g.samples; ++ih) {
          for (int64_t iw = 0; iw < g.samples; ++iw) {
            const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
            if (!s.valid) continue;
            T dw, dh;
            droi::bilinear_slopes(src, g.width, s, &dw, &dh);
            dw_sum += dw * diff;
            dh_sum += dh * diff;
          }
        }
      }
    }
    const T t_std = static_cast<T>(g.trans_std);
    out[(k * 2) * bins + bin] = dw_sum * t_std * b.roi_w;
    out[(k * 2 + 1) * bins + bin] = dh_sum * t_std * b.roi_h;
  }
}

// The per-pixel lists of the backward, built on the host (see the file comment).
template <typename T>
struct PixelLists {
  std::vector<int64_t> row_ptr, src;
  std::vector<T> weight, count;
};

template <typename T>
PixelLists<T> pixel_lists(const droi::Geometry& g, int64_t batch, const std::vector<T>& rois,
                          const std::vector<T>& offset) {
  const int64_t k_count = static_cast<int64_t>(rois.size() / 5), bins = g.bins();
  const int64_t plane = g.height * g.width;
  struct Entry {
    int64_t key, src;
    T weight;
  };
  std::vector<Entry> entries;
  PixelLists<T> lists;
  lists.count.assign(k_count * bins, T(0));
  for (int64_t k = 0; k < k_count; ++k) {
    for (int64_t bin = 0; bin < bins; ++bin) {
      const droi::Bin<T> b = droi::bin_of(g, rois.data() + 5 * k,
                                          offset.empty() ? nullptr : offset.data() + k * 2 * bins,
                                          bin / g.pooled_w, bin % g.pooled_w);
      lists.count[k * bins + bin] = static_cast<T>(droi::valid_samples(g, b));
      for (int64_t ih = 0; ih < g.samples; ++ih) {
        for (int64_t iw = 0; iw < g.samples; ++iw) {
          const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
          if (!s.valid) continue;
          const int64_t base = b.batch * plane, src = k * bins + bin;
          const Entry corners[4] = {
              {base + s.y0 * g.width + s.x0, src, (T(1) - s.ly) * (T(1) - s.lx)},
              {base + s.y0 * g.width + s.x1, src, (T(1) - s.ly) * s.lx},
              {base + s.y1 * g.width + s.x0, src, s.ly * (T(1) - s.lx)},
              {base + s.y1 * g.width + s.x1, src, s.ly * s.lx}};
          for (const Entry& e : corners) {
            if (e.weight != T(0)) entries.push_back(e);
          }
        }
      }
    }
  }
  // Stable counting sort by pixel.
  lists.row_ptr.assign(batch * plane + 1, 0);
  for (const Entry& e : entries) ++lists.row_ptr[e.key + 1];
  for (size_t i = 1; i < lists.row_ptr.size(); ++i) lists.row_ptr[i] += lists.row_ptr[i - 1];
  std::vector<int64_t> next(lists.row_ptr.begin(), lists.row_ptr.end() - 1);
  lists.src.resize(entries.size());
  lists.weight.resize(entries.size());
  for (const Entry& e : entries) {
    const int64_t at = next[e.key]++;
    lists.src[at] = e.src;
    lists.weight[at] = e.weight;
  }
  return lists;
}

template <typename T>
Tensor on_device(const std::vector<T>& v, Device device) {
  return Tensor::from_vector<T>(v, {static_cast<int64_t>(v.size())}).to(device);
}

// The caller's output when contiguous, else a contiguous buffer copied into it afterwards.
Tensor contiguous_target(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

void finish(const Tensor& given, const Tensor& out) {
  if (!out.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {out});
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor x = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).defined() ? ctx.input(2).contiguous() : Tensor{};
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), x.shape());
  const Tensor& given =
      ctx.output(0, {rois.size(0), g.channels, g.pooled_h, g.pooled_w}, x.dtype());
  Tensor out = contiguous_target(given);
  const int64_t total = out.numel();
  if (total > 0) {
    cuda::DeviceGuard guard(x.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(x.dtype(), "deformable_roi_pool", [&]<typename T>() {
      forward_bins<T><<<cuda_detail::blocks_for(total), cuda_detail::kThreads, 0, stream>>>(
          g, total, static_cast<const T*>(x.raw_data()), static_cast<const T*>(rois.raw_data()),
          data_or_null<T>(offset), static_cast<T*>(out.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  finish(given, out);
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor x = ctx.input(1).contiguous();
  const Tensor rois = ctx.input(2).contiguous();
  const Tensor offset = ctx.input(3).defined() ? ctx.input(3).contiguous() : Tensor{};
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), x.shape());
  const int64_t k_count = rois.size(0);
  const Tensor& given_input = ctx.output(0, x.shape(), x.dtype());
  const Tensor& given_offset = ctx.output(1, {k_count, 2, g.pooled_h, g.pooled_w}, x.dtype());
  Tensor gi = contiguous_target(given_input);
  Tensor go = contiguous_target(given_offset);
  const Device device = x.device();
  cuda::DeviceGuard guard(device.index);
  cudaStream_t stream = cuda::current_stream();
  OSPREY_DISPATCH_FLOAT(x.dtype(), "deformable_roi_pool_backward", [&]<typename T>() {
    const std::vector<T> host_rois = rois.template to_vector<T>();
    const std::vector<T> host_offset =
        offset.defined() ? offset.template to_vector<T>() : std::vector<T>{};
    const PixelLists<T> lists = pixel_lists<T>(g, x.size(0), host_rois, host_offset);
    const Tensor row_ptr = on_device(lists.row_ptr, device);
    const Tensor src = on_device(lists.src, device);
    const Tensor weight = on_device(lists.weight, device);
    const Tensor count = on_device(lists.count, device);
    const int64_t inputs = gi.numel();
    if (inputs > 0) {
      gather_input_grad<T><<<cuda_detail::blocks_for(inputs), cuda_detail::kThreads, 0, stream>>>(
          g, inputs, static_cast<const int64_t*>(row_ptr.raw_data()),
          static_cast<const int64_t*>(src.raw_data()), static_cast<const T*>(weight.raw_data()),
          static_cast<const T*>(count.raw_data()), static_cast<const T*>(grad.raw_data()),
          static_cast<T*>(gi.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
    const int64_t bins = k_count * g.bins();
    if (bins > 0) {
      offset_grad<T><<<cuda_detail::blocks_for(bins), cuda_detail::kThreads, 0, stream>>>(
          g, bins, static_cast<const T*>(x.raw_data()), static_cast<const T*>(rois.raw_data()),
          data_or_null<T>(offset), static_cast<const T*>(grad.raw_data()),
          static_cast<T*>(go.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    }
  });
  finish(given_input, gi);
  finish(given_offset, go);
}

bool float_input(const KernelContext& ctx, int index) {
  const DType d = ctx.input(index).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel(
      "deformable_roi_pool", DeviceType::cuda, "native", 0, forward_kernel,
      [](const KernelContext& ctx) { return float_input(ctx, 0); },
      "thread per (RoI, channel, bin)");
  register_kernel(
      "deformable_roi_pool_backward", DeviceType::cuda, "native", 0, backward_kernel,
      [](const KernelContext& ctx) { return float_input(ctx, 1); },
      "deterministic: host-built per-pixel lists gathered per input element; thread per bin for "
      "the offsets");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
