// Faster CPU kernels of interpolate and interpolate_backward: the same taps as the reference, with
// weights converted to T once, arithmetic in T, and OpenMP over the N*C planes (each output reads,
// and each gradient scatters into, its own plane only, so planes never race). Nearest copies
// instead of weighing, so an infinite value never meets a zero weight (0 * inf is NaN).
#include <algorithm>
#include <vector>

#include "ops/common/cpu_output.h"
#include "ops/common/op_helpers.h"
#include "ops/interpolate/interpolate.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

template <typename T>
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<T> w0, w1;
};

template <typename T>
Taps<T> typed_taps(const std::vector<InterpolateTap>& taps) {
  Taps<T> t;
  for (const InterpolateTap& tap : taps) {
    t.i0.push_back(tap.i0);
    t.i1.push_back(tap.i1);
    t.w0.push_back(static_cast<T>(tap.w0));
    t.w1.push_back(static_cast<T>(tap.w1));
  }
  return t;
}

void interpolate_planes(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Interpolate2d g = interpolate_geometry(ctx.attrs(), input.shape(), "interpolate");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  with_cpu_output(out, input.dtype(), "interpolate", [&]<typename T>(T* dst) {
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    const Taps<T> rows = typed_taps<T>(g.rows), cols = typed_taps<T>(g.cols);
    const bool nearest = ctx.attrs().get_string("mode") == "nearest";
    const int64_t channels = g.input[1], planes = g.input[0] * channels;
    const int64_t plane_out = g.out_h * g.out_w;
    for_each_plane(planes, planes * plane_out * 4, [&](int64_t p) {
      const T* in = src + offset4(st, p / channels, p % channels, 0, 0);
      T* o = dst + p * plane_out;
      for (int64_t i = 0; i < g.out_h; ++i) {
        const T* top = in + rows.i0[i] * st[2];
        const T* bottom = in + rows.i1[i] * st[2];
        const T a0 = rows.w0[i], a1 = rows.w1[i];
        for (int64_t j = 0; j < g.out_w; ++j) {
          const int64_t c0 = cols.i0[j] * st[3], c1 = cols.i1[j] * st[3];
          if (nearest) {
            o[i * g.out_w + j] = top[c0];
            continue;
          }
          const T b0 = cols.w0[j], b1 = cols.w1[j];
          o[i * g.out_w + j] =
              a0 * (b0 * top[c0] + b1 * top[c1]) + a1 * (b0 * bottom[c0] + b1 * bottom[c1]);
        }
      }
    });
  });
}

void interpolate_backward_planes(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Interpolate2d g = interpolate_geometry(ctx.attrs(), input_size, "interpolate_backward");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  with_cpu_output(out, grad.dtype(), "interpolate_backward", [&]<typename T>(T* dst) {
    const T* src = grad.data<T>();
    const Shape& gs = grad.strides();
    const Taps<T> rows = typed_taps<T>(g.rows), cols = typed_taps<T>(g.cols);
    const bool nearest = ctx.attrs().get_string("mode") == "nearest";
    const int64_t channels = g.input[1], planes = g.input[0] * channels;
    const int64_t W = input_size[3], plane = input_size[2] * W;
    for_each_plane(planes, planes * g.out_h * g.out_w * 4, [&](int64_t p) {
      const T* go = src + offset4(gs, p / channels, p % channels, 0, 0);
      T* gi = dst + p * plane;
      std::fill(gi, gi + plane, T(0));
      for (int64_t i = 0; i < g.out_h; ++i) {
        T* top = gi + rows.i0[i] * W;
        T* bottom = gi + rows.i1[i] * W;
        const T a0 = rows.w0[i], a1 = rows.w1[i];
        for (int64_t j = 0; j < g.out_w; ++j) {
          const T v = go[i * gs[2] + j * gs[3]];
          const int64_t c0 = cols.i0[j], c1 = cols.i1[j];
          if (nearest) {
            top[c0] += v;
            continue;
          }
          const T b0 = cols.w0[j], b1 = cols.w1[j];
          top[c0] += a0 * b0 * v;
          top[c1] += a0 * b1 * v;
          bottom[c0] += a1 * b0 * v;
          bottom[c1] += a1 * b1 * v;
        }
      }
    });
  });
}

const bool registered = [] {
  register_kernel("interpolate", DeviceType::cpu, "planes", 10, interpolate_planes, {},
                  "typed taps precomputed once, OpenMP over planes");
  register_kernel("interpolate_backward", DeviceType::cpu, "planes", 10,
                  interpolate_backward_planes, {}, "scatter with typed taps, OpenMP over planes");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
