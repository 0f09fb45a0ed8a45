// CPU reference kernels of interpolate and interpolate_backward: direct loops over every output
// element and its (up to) four source taps, reading inputs through their strides (any layout),
// writing contiguous NCHW and accumulating in double. Taps of different outputs overlap, so the
// backward scatter is serial.
#include <algorithm>
#include <vector>

#include "ops/common/cpu_output.h"
#include "ops/common/op_helpers.h"
#include "ops/interpolate/interpolate.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// Calls fn(h, w, weight) for the four taps of output (i, j); nearest's zero-weight taps are
// skipped so they never touch memory twice.
template <typename Fn>
void for_each_tap(const InterpolateTap& r, const InterpolateTap& c, Fn fn) {
  const int64_t hs[2] = {r.i0, r.i1}, ws[2] = {c.i0, c.i1};
  const double wh[2] = {r.w0, r.w1}, ww[2] = {c.w0, c.w1};
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const double weight = wh[a] * ww[b];
      if (weight != 0.0) fn(hs[a], ws[b], weight);
    }
  }
}

void interpolate_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Interpolate2d g = interpolate_geometry(ctx.attrs(), input.shape(), "interpolate");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  with_cpu_output(out, input.dtype(), "interpolate", [&]<typename T>(T* dst) {
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    int64_t o = 0;
    for (int64_t n = 0; n < g.input[0]; ++n) {
      for (int64_t c = 0; c < g.input[1]; ++c) {
        for (int64_t i = 0; i < g.out_h; ++i) {
          for (int64_t j = 0; j < g.out_w; ++j) {
            double sum = 0.0;
            for_each_tap(g.rows[i], g.cols[j], [&](int64_t h, int64_t w, double weight) {
              sum += weight * static_cast<double>(src[offset4(st, n, c, h, w)]);
            });
            dst[o++] = static_cast<T>(sum);
          }
        }
      }
    }
  });
}

void interpolate_backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Interpolate2d g = interpolate_geometry(ctx.attrs(), input_size, "interpolate_backward");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  with_cpu_output(out, grad.dtype(), "interpolate_backward", [&]<typename T>(T* dst) {
    std::vector<double> sums(static_cast<size_t>(shape_numel(input_size)), 0.0);
    const T* src = grad.data<T>();
    const Shape& gs = grad.strides();
    const int64_t H = input_size[2], W = input_size[3];
    for (int64_t n = 0; n < g.input[0]; ++n) {
      for (int64_t c = 0; c < g.input[1]; ++c) {
        double* plane = sums.data() + (n * g.input[1] + c) * H * W;
        for (int64_t i = 0; i < g.out_h; ++i) {
          for (int64_t j = 0; j < g.out_w; ++j) {
            const double go = static_cast<double>(src[offset4(gs, n, c, i, j)]);
            for_each_tap(g.rows[i], g.cols[j], [&](int64_t h, int64_t w, double weight) {
              plane[h * W + w] += weight * go;
            });
          }
        }
      }
    }
    std::copy(sums.begin(), sums.end(), dst);
  });
}

const bool registered = [] {
  register_kernel("interpolate", DeviceType::cpu, "reference", 0, interpolate_reference, {},
                  "direct loops over each output and its four taps");
  register_kernel("interpolate_backward", DeviceType::cpu, "reference", 0,
                  interpolate_backward_reference, {}, "serial scatter of grad * tap weight");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
