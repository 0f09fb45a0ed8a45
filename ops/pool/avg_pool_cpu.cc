// CPU kernels of avg_pool2d and avg_pool2d_backward. reference: direct loops over every output
// element and its window, plane after plane, reading inputs through their strides (any layout),
// writing contiguous NCHW and accumulating in double; the backward scatter is serial. planes: the
// same code with the planes in parallel (windows never leave their plane, so planes never race).
#include <algorithm>
#include <vector>

#include "ops/common/cpu_output.h"
#include "ops/common/op_helpers.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// Output (i, j)'s window clipped to the input, and the divisor PyTorch uses for it.
struct Window {
  int64_t h0, h1, w0, w1;  // rows h0 .. h1-1, columns w0 .. w1-1
  double divisor;
};

Window window_at(const Pool2d& g, int64_t i, int64_t j, bool count_include_pad) {
  const int64_t hs = i * g.stride_h - g.pad_h, ws = j * g.stride_w - g.pad_w;
  // count_include_pad counts padding but not the ceil_mode overhang past it.
  const int64_t he = std::min(hs + g.kernel_h, g.in_h + g.pad_h);
  const int64_t we = std::min(ws + g.kernel_w, g.in_w + g.pad_w);
  const int64_t padded = (he - hs) * (we - ws);
  Window win{std::max<int64_t>(hs, 0), std::min(he, g.in_h), std::max<int64_t>(ws, 0),
             std::min(we, g.in_w), 0.0};
  win.divisor =
      static_cast<double>(count_include_pad ? padded : (win.h1 - win.h0) * (win.w1 - win.w0));
  return win;
}

// Every plane's loops: the reference runs planes one after another, cpu/planes runs them in
// parallel (windows never leave their plane, so planes never race and the sums are the same).
void avg_pool_forward(KernelContext& ctx, bool parallel) {
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "avg_pool2d");
  const bool include_pad = ctx.attrs().get_bool("count_include_pad");
  const Tensor& out = ctx.output(0, g.output_shape(), input.dtype());
  with_cpu_output(out, input.dtype(), "avg_pool2d", [&]<typename T>(T* dst) {
    const T* src = input.data<T>();
    const Shape& st = input.strides();
    const int64_t planes = g.batch * g.channels, plane_out = g.out_h * g.out_w;
    for_each_plane(planes, parallel ? planes * plane_out : 0, [&](int64_t p) {
      const T* in = src + offset4(st, p / g.channels, p % g.channels, 0, 0);
      T* o = dst + p * plane_out;
      for (int64_t i = 0; i < g.out_h; ++i) {
        for (int64_t j = 0; j < g.out_w; ++j) {
          const Window win = window_at(g, i, j, include_pad);
          double sum = 0.0;
          for (int64_t h = win.h0; h < win.h1; ++h) {
            for (int64_t w = win.w0; w < win.w1; ++w) sum += in[h * st[2] + w * st[3]];
          }
          o[i * g.out_w + j] = static_cast<T>(sum / win.divisor);
        }
      }
    });
  });
}

// Each plane's gradient is summed in double, then stored in T.
void avg_pool_backward(KernelContext& ctx, bool parallel) {
  const Tensor& grad = ctx.input(0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Pool2d g = pool2d_geometry(ctx.attrs(), input_size, "avg_pool2d_backward");
  const bool include_pad = ctx.attrs().get_bool("count_include_pad");
  const Tensor& out = ctx.output(0, input_size, grad.dtype());
  with_cpu_output(out, grad.dtype(), "avg_pool2d_backward", [&]<typename T>(T* dst) {
    const T* src = grad.data<T>();
    const Shape& gs = grad.strides();
    const int64_t planes = g.batch * g.channels, plane = g.in_h * g.in_w;
    for_each_plane(planes, parallel ? planes * plane : 0, [&](int64_t p) {
      const int64_t n = p / g.channels, c = p % g.channels;
      std::vector<double> sums(static_cast<size_t>(plane), 0.0);
      for (int64_t i = 0; i < g.out_h; ++i) {
        for (int64_t j = 0; j < g.out_w; ++j) {
          const Window win = window_at(g, i, j, include_pad);
          const double share = src[offset4(gs, n, c, i, j)] / win.divisor;
          for (int64_t h = win.h0; h < win.h1; ++h) {
            for (int64_t w = win.w0; w < win.w1; ++w) sums[h * g.in_w + w] += share;
          }
        }
      }
      std::copy(sums.begin(), sums.end(), dst + p * plane);
    });
  });
}

const bool registered = [] {
  register_kernel(
      "avg_pool2d", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) { avg_pool_forward(ctx, false); }, {},
      "direct loops over each window");
  register_kernel(
      "avg_pool2d_backward", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) { avg_pool_backward(ctx, false); }, {},
      "serial scatter of grad / divisor");
  register_kernel(
      "avg_pool2d", DeviceType::cpu, "planes", 10,
      [](KernelContext& ctx) { avg_pool_forward(ctx, true); }, {},
      "direct loops, OpenMP over planes");
  register_kernel(
      "avg_pool2d_backward", DeviceType::cpu, "planes", 10,
      [](KernelContext& ctx) { avg_pool_backward(ctx, true); }, {},
      "scatter of grad / divisor, OpenMP over planes");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
