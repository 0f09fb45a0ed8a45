// cpu/parallel kernels of deformable_roi_pool and deformable_roi_pool_backward (math in
// deformable_roi_pool.h). The sample geometry depends on the RoI and bin only, so it is computed
// once per bin (the reference recomputes it for every channel) and the channel loops run in
// parallel with OpenMP:
//   forward          one task per (RoI, channel);
//   input gradient   one task per channel (each channel's plane is written by that task only,
//                    so no atomics, and every pixel sums in the reference's (RoI, bin, sample)
//                    order: the same bits on every run and thread count);
//   offset gradient  one task per (RoI, bin), summing over channels and samples in the
//                    reference's order.
// Wins over the reference whenever there is more than one core, and by the saved geometry alone
// on one core. f32 and f64.
#include <vector>

#include "ops/deformable_roi_pool/deformable_roi_pool.h"
#include "ops/deformable_roi_pool/deformable_roi_pool_cpu_call.h"

namespace osprey::ops {
namespace {

// Every bin's valid samples in the reference's order, its count and its box.
template <typename T>
struct BinSamples {
  std::vector<droi::Bin<T>> bin;         // K · bins
  std::vector<int64_t> first;            // K · bins + 1: where each bin's samples start
  std::vector<droi::Sample<T>> samples;  // the valid ones only
};

template <typename T>
BinSamples<T> bin_samples(const droi::CpuOperands& o) {
  const droi::Geometry& g = o.g;
  const int64_t bins = o.bins, total = o.k_count * bins;
  const T* r = o.rois.data<T>();
  const T* off = o.offset_data<T>();
  BinSamples<T> s;
  s.bin.reserve(total);
  s.first.reserve(total + 1);
  s.first.push_back(0);
  for (int64_t i = 0; i < total; ++i) {
    const int64_t k = i / bins, bin = i % bins;
    s.bin.push_back(droi::bin_of(g, r + 5 * k, off ? off + k * 2 * bins : nullptr, bin / g.pooled_w,
                                 bin % g.pooled_w));
    for (int64_t ih = 0; ih < g.samples; ++ih) {
      for (int64_t iw = 0; iw < g.samples; ++iw) {
        const droi::Sample<T> one = droi::sample_of(g, s.bin.back(), ih, iw);
        if (one.valid) s.samples.push_back(one);
      }
    }
    s.first.push_back(static_cast<int64_t>(s.samples.size()));
  }
  return s;
}

template <typename T>
void forward(KernelContext& ctx) {
  const droi::CpuOperands o(ctx, false);
  const droi::Geometry& g = o.g;
  const int64_t k_count = o.k_count, bins = o.bins, plane = o.plane;
  const droi::CpuForwardResult out(ctx, o);
  const BinSamples<T> s = bin_samples<T>(o);
  T* dst = out.result.data<T>();
  const T* x = o.input.data<T>();
  const int64_t tasks = k_count * g.channels;
#pragma omp parallel for schedule(static)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t k = task / g.channels, c = task % g.channels;
    for (int64_t bin = 0; bin < bins; ++bin) {
      const int64_t i = k * bins + bin;
      const T* src = x + (s.bin[i].batch * g.channels + c) * plane;
      const int64_t count = s.first[i + 1] - s.first[i];
      T sum = 0;
      for (int64_t j = s.first[i]; j < s.first[i + 1]; ++j) {
        sum += droi::bilinear(src, g.width, s.samples[j]);
      }
      dst[task * bins + bin] = count > 0 ? sum / static_cast<T>(count) : T(0);
    }
  }
  out.store<T>();
}

template <typename T>
void backward(KernelContext& ctx) {
  const droi::CpuOperands o(ctx, true);
  const droi::Geometry& g = o.g;
  const int64_t k_count = o.k_count, bins = o.bins, plane = o.plane;
  const droi::CpuBackwardResult out(ctx, o);
  const BinSamples<T> s = bin_samples<T>(o);
  const T* x = o.input.data<T>();
  const T* gy = o.grad.data<T>();
  T* dx = out.gi.data<T>();
  T* doff = out.go.data<T>();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t i = 0; i < k_count * bins; ++i) {
      const int64_t count = s.first[i + 1] - s.first[i];
      if (count == 0) continue;
      const int64_t k = i / bins, bin = i % bins;
      const T diff = gy[(k * g.channels + c) * bins + bin] / static_cast<T>(count);
      T* dsrc = dx + (s.bin[i].batch * g.channels + c) * plane;
      for (int64_t j = s.first[i]; j < s.first[i + 1]; ++j) {
        droi::scatter_bilinear(dsrc, g.width, s.samples[j], diff);
      }
    }
  }
  if (o.offset.defined()) {
    const T t_std = static_cast<T>(g.trans_std);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < k_count * bins; ++i) {
      const int64_t count = s.first[i + 1] - s.first[i];
      if (count == 0) continue;
      const int64_t k = i / bins, bin = i % bins;
      T dw_sum = 0, dh_sum = 0;
      for (int64_t c = 0; c < g.channels; ++c) {
        const T diff = gy[(k * g.channels + c) * bins + bin] / static_cast<T>(count);
        const T* src = x + (s.bin[i].batch * g.channels + c) * plane;
        for (int64_t j = s.first[i]; j < s.first[i + 1]; ++j) {
          T dw, dh;
          droi::bilinear_slopes(src, g.width, s.samples[j], &dw, &dh);
          dw_sum += dw * diff;
          dh_sum += dh * diff;
        }
      }
      doff[(k * 2) * bins + bin] = dw_sum * t_std * s.bin[i].roi_w;
      doff[(k * 2 + 1) * bins + bin] = dh_sum * t_std * s.bin[i].roi_h;
    }
  }
  out.store<T>();
}

const bool registered = [] {
  const char* doc = "bin geometry once, OpenMP over channels; deterministic";
  register_kernel(
      "deformable_roi_pool", DeviceType::cpu, "parallel", 1,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "deformable_roi_pool",
                              [&]<typename T>() { forward<T>(ctx); });
      },
      inputs_are_float, doc);
  register_kernel(
      "deformable_roi_pool_backward", DeviceType::cpu, "parallel", 1,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(1).dtype(), "deformable_roi_pool_backward",
                              [&]<typename T>() { backward<T>(ctx); });
      },
      inputs_are_float, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
