// cuda/native kernels of avg_pool2d and avg_pool2d_backward, with the CPU reference's window and
// divisor rules (count_include_pad counts the padding but not the ceil_mode overhang).
//   forward: one thread per output element summing its clipped window (inputs read through their
//     strides, any layout), writing contiguous NCHW.
//   backward: a gather, one thread per input element summing grad / divisor over the outputs
//     whose window covers it (window i covers rows i*sH - pH .. i*sH - pH + kH - 1), so no atomics
//     and a fixed summation order.
#include "framework/autograd/grad_mode.h"
#include "ops/common/cuda_reduce.cuh"
#include "ops/pool/pool_cuda.cuh"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

// Output (i, j)'s window clipped to the input, and its divisor.
struct Window {
  int64_t h0, h1, w0, w1;
  int64_t divisor;
};

__device__ Window window_at(const Pool2d& g, int64_t i, int64_t j, bool include_pad) {
  const int64_t hs = i * g.stride_h - g.pad_h, ws = j * g.stride_w - g.pad_w;
  const int64_t he = min(hs + g.kernel_h, g.in_h + g.pad_h);
  const int64_t we = min(ws + g.kernel_w, g.in_w + g.pad_w);
  Window win{max(hs, int64_t{0}), min(he, g.in_h), max(ws, int64_t{0}), min(we, g.in_w), 0};
  win.divisor = include_pad ? (he - hs) * (we - ws) : (win.h1 - win.h0) * (win.w1 - win.w0);
  return win;
}

template <typename T>
__global__ void avg_pool_forward(int64_t total, Pool2d g, bool include_pad, Strides4 st,
                                 const T* in, T* out) {
  using Acc = cuda_acc_t<T>;
  for (int64_t o = grid_first(); o < total; o += grid_step()) {
    const auto [n, c, i, j] = nchw_index(o, g.channels, g.out_h, g.out_w);
    const Window win = window_at(g, i, j, include_pad);
    Acc sum = 0;
    for (int64_t h = win.h0; h < win.h1; ++h) {
      for (int64_t w = win.w0; w < win.w1; ++w) sum += Acc(in[st.at(n, c, h, w)]);
    }
    out[o] = static_cast<T>(sum / Acc(win.divisor));
  }
}

// Outputs along one dim whose window [i*s - p, i*s - p + k) holds position x: i in [first, last).
__device__ void covering(int64_t x, int64_t kernel, int64_t stride, int64_t pad, int64_t outs,
                         int64_t* first, int64_t* last) {
  const int64_t lo = x + pad - kernel + 1;  // i*s >= lo
  *first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
  *last = min(outs, (x + pad) / stride + 1);  // i*s <= x + pad
}

template <typename T>
__global__ void avg_pool_backward(int64_t total, Pool2d g, bool include_pad, Strides4 gs,
                                  const T* grad, T* out) {
  using Acc = cuda_acc_t<T>;
  for (int64_t e = grid_first(); e < total; e += grid_step()) {
    const auto [n, c, h, w] = nchw_index(e, g.channels, g.in_h, g.in_w);
    int64_t i0, i1, j0, j1;
    covering(h, g.kernel_h, g.stride_h, g.pad_h, g.out_h, &i0, &i1);
    covering(w, g.kernel_w, g.stride_w, g.pad_w, g.out_w, &j0, &j1);
    Acc sum = 0;
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t j = j0; j < j1; ++j) {
        const Window win = window_at(g, i, j, include_pad);
        sum += Acc(grad[gs.at(n, c, i, j)]) / Acc(win.divisor);
      }
    }
    out[e] = static_cast<T>(sum);
  }
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "avg_pool2d");
  const bool include_pad = ctx.attrs().get_bool("count_include_pad");
  with_pool_output(ctx.output(0, g.output_shape(), input.dtype()), input.device(), false,
                   [&](const Tensor& out, cudaStream_t stream) {
                     OSPREY_DISPATCH_FLOAT(input.dtype(), "avg_pool2d", [&]<typename T>() {
                       launch_per_element(avg_pool_forward<T>, out.numel(), stream, g, include_pad,
                                          Strides4(input), static_cast<const T*>(input.raw_data()),
                                          static_cast<T*>(out.raw_data()));
                     });
                   });
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& grad = ctx.input(0);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Pool2d g = pool2d_geometry(ctx.attrs(), input_size, "avg_pool2d_backward");
  const bool include_pad = ctx.attrs().get_bool("count_include_pad");
  with_pool_output(ctx.output(0, input_size, grad.dtype()), grad.device(), false,
                   [&](const Tensor& out, cudaStream_t stream) {
                     OSPREY_DISPATCH_FLOAT(grad.dtype(), "avg_pool2d_backward", [&]<typename T>() {
                       launch_per_element(avg_pool_backward<T>, out.numel(), stream, g, include_pad,
                                          Strides4(grad), static_cast<const T*>(grad.raw_data()),
                                          static_cast<T*>(out.raw_data()));
                     });
                   });
}

const bool registered = [] {
  register_kernel("avg_pool2d", DeviceType::cuda, "native", 0, forward_kernel, inputs_are_float,
                  "thread per output summing its clipped window, any input layout");
  register_kernel("avg_pool2d_backward", DeviceType::cuda, "native", 0, backward_kernel,
                  inputs_are_float, "gather: thread per input element over the covering windows");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
