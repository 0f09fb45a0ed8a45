// CPU reference kernels of deformable_roi_pool and deformable_roi_pool_backward (math in
// deformable_roi_pool.h): contiguous copies of the inputs, one serial walk over RoIs, channels,
// bins and samples with the geometry of deformable_roi_pool_geometry.h (shared with CUDA); the
// backward scatters into a zeroed gradient in that fixed order. f32 and f64.
#include "ops/deformable_roi_pool/deformable_roi_pool.h"
#include "ops/deformable_roi_pool/deformable_roi_pool_cpu_call.h"

namespace osprey::ops {
namespace {

template <typename T>
void forward(KernelContext& ctx) {
  const droi::CpuOperands o(ctx, false);
  const droi::Geometry& g = o.g;
  const droi::CpuForwardResult out(ctx, o);
  T* dst = out.result.data<T>();
  const T* x = o.input.data<T>();
  const T* r = o.rois.data<T>();
  const T* off = o.offset_data<T>();
  for (int64_t k = 0; k < o.k_count; ++k) {
    for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
      for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
        const droi::Bin<T> b =
            droi::bin_of(g, r + 5 * k, off ? off + k * 2 * o.bins : nullptr, ph, pw);
        const int64_t count = droi::valid_samples(g, b);
        for (int64_t c = 0; c < g.channels; ++c) {
          const T* src = x + (b.batch * g.channels + c) * o.plane;
          T sum = 0;
          for (int64_t ih = 0; ih < g.samples; ++ih) {
            for (int64_t iw = 0; iw < g.samples; ++iw) {
              const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
              if (s.valid) sum += droi::bilinear(src, g.width, s);
            }
          }
          dst[(k * g.channels + c) * o.bins + ph * g.pooled_w + pw] =
              count > 0 ? sum / static_cast<T>(count) : T(0);
        }
      }
    }
  }
  out.store<T>();
}

template <typename T>
void backward(KernelContext& ctx) {
  const droi::CpuOperands o(ctx, true);
  const droi::Geometry& g = o.g;
  const droi::CpuBackwardResult out(ctx, o);
  const T* x = o.input.data<T>();
  const T* gy = o.grad.data<T>();
  const T* r = o.rois.data<T>();
  const T* off = o.offset_data<T>();
  T* dx = out.gi.data<T>();
  T* doff = out.go.data<T>();
  for (int64_t k = 0; k < o.k_count; ++k) {
    for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
      for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
        const droi::Bin<T> b =
            droi::bin_of(g, r + 5 * k, off ? off + k * 2 * o.bins : nullptr, ph, pw);
        const int64_t count = droi::valid_samples(g, b);
        if (count == 0) continue;
        T dw_sum = 0, dh_sum = 0;
        for (int64_t c = 0; c < g.channels; ++c) {
          const T diff =
              gy[(k * g.channels + c) * o.bins + ph * g.pooled_w + pw] / static_cast<T>(count);
          const T* src = x + (b.batch * g.channels + c) * o.plane;
          T* dsrc = dx + (b.batch * g.channels + c) * o.plane;
          for (int64_t ih = 0; ih < g.samples; ++ih) {
            for (int64_t iw = 0; iw < g.samples; ++iw) {
              const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
              if (!s.valid) continue;
              droi::scatter_bilinear(dsrc, g.width, s, diff);
              if (!off) continue;
              T dw, dh;
              droi::bilinear_slopes(src, g.width, s, &dw, &dh);
              dw_sum += dw * diff;
              dh_sum += dh * diff;
            }
          }
        }
        const T t_std = static_cast<T>(g.trans_std);
        doff[(k * 2) * o.bins + ph * g.pooled_w + pw] = dw_sum * t_std * b.roi_w;
        doff[(k * 2 + 1) * o.bins + ph * g.pooled_w + pw] = dh_sum * t_std * b.roi_h;
      }
    }
  }
  out.store<T>();
}

const bool registered = [] {
  const char* doc = "serial loops over RoIs, bins, channels and samples; scatter backward";
  register_kernel(
      "deformable_roi_pool", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "deformable_roi_pool",
                              [&]<typename T>() { forward<T>(ctx); });
      },
      {}, doc);
  register_kernel(
      "deformable_roi_pool_backward", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(1).dtype(), "deformable_roi_pool_backward",
                              [&]<typename T>() { backward<T>(ctx); });
      },
      {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
