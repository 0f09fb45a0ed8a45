// CPU reference kernels of deformable_roi_pool and deformable_roi_pool_backward (math in
// deformable_roi_pool.h): contiguous copies of the inputs, one serial walk over RoIs, channels,
// bins and samples with the geometry of deformable_roi_pool_geometry.h (shared with CUDA); the
// backward scatters into a zeroed gradient in that fixed order. f32 and f64.
#include "ops/common/op_helpers.h"
#include "ops/deformable_roi_pool/deformable_roi_pool.h"
#include "ops/deformable_roi_pool/deformable_roi_pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

template <typename T>
void forward(KernelContext& ctx) {
  const Tensor input = ctx.input(0).contiguous();
  const Tensor rois = ctx.input(1).contiguous();
  const Tensor offset = ctx.input(2).defined() ? ctx.input(2).contiguous() : Tensor{};
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), input.shape());
  const int64_t k_count = rois.size(0), bins = g.bins(), plane = g.height * g.width;
  const Tensor& out = ctx.output(0, {k_count, g.channels, g.pooled_h, g.pooled_w}, input.dtype());
  Tensor result = Tensor::empty(out.shape(), input.dtype());
  T* dst = result.data<T>();
  const T* x = input.data<T>();
  const T* r = rois.data<T>();
  const T* off = data_or_null<T>(offset);
  for (int64_t k = 0; k < k_count; ++k) {
    for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
      for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
        const droi::Bin<T> b =
            droi::bin_of(g, r + 5 * k, off ? off + k * 2 * bins : nullptr, ph, pw);
        const int64_t count = droi::valid_samples(g, b);
        for (int64_t c = 0; c < g.channels; ++c) {
          const T* src = x + (b.batch * g.channels + c) * plane;
          T sum = 0;
          for (int64_t ih = 0; ih < g.samples; ++ih) {
            for (int64_t iw = 0; iw < g.samples; ++iw) {
              const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
              if (s.valid) sum += droi::bilinear(src, g.width, s);
            }
          }
          dst[(k * g.channels + c) * bins + ph * g.pooled_w + pw] =
              count > 0 ? sum / static_cast<T>(count) : T(0);
        }
      }
    }
  }
  cpu_store<T>(out, result);
}

template <typename T>
void backward(KernelContext& ctx) {
  const Tensor grad = ctx.input(0).contiguous();
  const Tensor input = ctx.input(1).contiguous();
  const Tensor rois = ctx.input(2).contiguous();
  const Tensor offset = ctx.input(3).defined() ? ctx.input(3).contiguous() : Tensor{};
  const droi::Geometry g = droi::geometry_of(ctx.attrs(), input.shape());
  const int64_t k_count = rois.size(0), bins = g.bins(), plane = g.height * g.width;
  const Tensor& grad_input = ctx.output(0, input.shape(), input.dtype());
  const Tensor& grad_offset = ctx.output(1, {k_count, 2, g.pooled_h, g.pooled_w}, input.dtype());
  Tensor gi = Tensor::empty(input.shape(), input.dtype()).fill_(0.0);
  Tensor go = Tensor::empty(grad_offset.shape(), input.dtype()).fill_(0.0);
  const T* x = input.data<T>();
  const T* gy = grad.data<T>();
  const T* r = rois.data<T>();
  const T* off = data_or_null<T>(offset);
  T* dx = gi.data<T>();
  T* doff = go.data<T>();
  for (int64_t k = 0; k < k_count; ++k) {
    for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
      for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
        const droi::Bin<T> b =
            droi::bin_of(g, r + 5 * k, off ? off + k * 2 * bins : nullptr, ph, pw);
        const int64_t count = droi::valid_samples(g, b);
        if (count == 0) continue;
        T dw_sum = 0, dh_sum = 0;
        for (int64_t c = 0; c < g.channels; ++c) {
          const T diff =
              gy[(k * g.channels + c) * bins + ph * g.pooled_w + pw] / static_cast<T>(count);
          const T* src = x + (b.batch * g.channels + c) * plane;
          T* dsrc = dx + (b.batch * g.channels + c) * plane;
          for (int64_t ih = 0; ih < g.samples; ++ih) {
            for (int64_t iw = 0; iw < g.samples; ++iw) {
              const droi::Sample<T> s = droi::sample_of(g, b, ih, iw);
              if (!s.valid) continue;
              dsrc[s.y0 * g.width + s.x0] += (T(1) - s.ly) * (T(1) - s.lx) * diff;
              dsrc[s.y0 * g.width + s.x1] += (T(1) - s.ly) * s.lx * diff;
              dsrc[s.y1 * g.width + s.x0] += s.ly * (T(1) - s.lx) * diff;
              dsrc[s.y1 * g.width + s.x1] += s.ly * s.lx * diff;
              if (!off) continue;
              T dw, dh;
              droi::bilinear_slopes(src, g.width, s, &dw, &dh);
              dw_sum += dw * diff;
              dh_sum += dh * diff;
            }
          }
        }
        const T t_std = static_cast<T>(g.trans_std);
        doff[(k * 2) * bins + ph * g.pooled_w + pw] = dw_sum * t_std * b.roi_w;
        doff[(k * 2 + 1) * bins + ph * g.pooled_w + pw] = dh_sum * t_std * b.roi_h;
      }
    }
  }
  cpu_store<T>(grad_input, gi);
  cpu_store<T>(grad_offset, go);
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
