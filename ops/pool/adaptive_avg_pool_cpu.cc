// CPU reference kernels of adaptive_avg_pool2d and its backward: direct loops over every output
// bin, reading inputs through their strides (any layout), writing contiguous NCHW and
// accumulating in double. Bins may overlap, so the backward scatter is serial.
#include <algorithm>
#include <vector>

#include "ops/common/cpu_output.h"
#include "ops/common/op_helpers.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// Calls fn(n, c, i, j, h0, h1, w0, w1) for every output bin, in row-major output order.
template <typename Fn>
void for_each_bin(const Shape& in, int64_t out_h, int64_t out_w, Fn fn) {
  for (int64_t n = 0; n < in[0]; ++n) {
    for (int64_t c = 0; c < in[1]; ++c) {
      for (int64_t i = 0; i < out_h; ++i) {
        const int64_t h0 = adaptive_bin_start(i, in[2], out_h);
        const int64_t h1 = adaptive_bin_end(i, in[2], out_h);
        for (int64_t j = 0; j < out_w; ++j) {
          fn(n, c, i, j, h0, h1, adaptive_bin_start(j, in[3], out_w),
             adaptive_bin_end(j, in[3], out_w));
        }
      }
    }
  }
}

void adaptive_reference(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const Shape shape = adaptive_avg_pool2d_output_shape(input.shape(), ctx.attrs());
  const Tensor& out = ctx.output(0, shape, input.dtype());
  with_cpu_output(out, input.dtype(), "adaptive_avg_pool2d", [&]<typename T>(T* dst) {
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    int64_t o = 0;
    for_each_bin(input.shape(), shape[2], shape[3],
                 [&](int64_t n, int64_t c, int64_t, int64_t, int64_t h0, int64_t h1, int64_t w0,
                     int64_t w1) {
                   double sum = 0.0;
                   for (int64_t h = h0; h < h1; ++h) {
                     for (int64_t w = w0; w < w1; ++w) sum += src[offset4(st, n, c, h, w)];
                   }
                   dst[o++] = static_cast<T>(sum / static_cast<double>((h1 - h0) * (w1 - w0)));
                 });
  });
}

void adaptive_backward_reference(KernelContext& ctx) {
  const Tensor& grad = ctx.input(0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  with_cpu_output(out, grad.dtype(), "adaptive_avg_pool2d_backward", [&]<typename T>(T* dst) {
    std::vector<double> sums(static_cast<size_t>(shape_numel(input_size)), 0.0);
    const T* src = grad.data<T>();
    const Shape& gs = grad.strides();
    const int64_t H = input_size[2], W = input_size[3];
    for_each_bin(input_size, grad.size(2), grad.size(3),
                 [&](int64_t n, int64_t c, int64_t i, int64_t j, int64_t h0, int64_t h1, int64_t w0,
                     int64_t w1) {
                   double* plane = sums.data() + (n * input_size[1] + c) * H * W;
                   const double share = static_cast<double>(src[offset4(gs, n, c, i, j)]) /
                                        static_cast<double>((h1 - h0) * (w1 - w0));
                   for (int64_t h = h0; h < h1; ++h) {
                     for (int64_t w = w0; w < w1; ++w) plane[h * W + w] += share;
                   }
                 });
    std::copy(sums.begin(), sums.end(), dst);
  });
}

const bool registered = [] {
  register_kernel("adaptive_avg_pool2d", DeviceType::cpu, "reference", 0, adaptive_reference, {},
                  "direct loops over each bin");
  register_kernel("adaptive_avg_pool2d_backward", DeviceType::cpu, "reference", 0,
                  adaptive_backward_reference, {}, "serial scatter of grad / bin size");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
