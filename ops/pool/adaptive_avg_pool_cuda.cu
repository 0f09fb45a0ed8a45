// cuda/native kernels of adaptive_avg_pool2d and adaptive_avg_pool2d_backward (bins as in
// pool.h: [floor(i*H/OH), ceil((i+1)*H/OH)), possibly overlapping by one).
//   forward: one thread per output element averaging its bin (inputs through their strides).
//   backward: a gather, one thread per input element summing grad / bin size over the bins that
//     hold it (found from a small candidate range and checked), so no atomics.
#include "framework/autograd/grad_mode.h"
#include "ops/common/cuda_reduce.cuh"
#include "ops/pool/pool_cuda.cuh"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

struct Sizes {
  int64_t channels, in_h, in_w, out_h, out_w;
};

template <typename T>
__global__ void adaptive_forward(int64_t total, Sizes s, Strides4 st, const T* in, T* out) {
  using Acc = cuda_acc_t<T>;
  for (int64_t o = grid_first(); o < total; o += grid_step()) {
    const auto [n, c, i, j] = nchw_index(o, s.channels, s.out_h, s.out_w);
    const int64_t h0 = adaptive_bin_start(i, s.in_h, s.out_h),
                  h1 = adaptive_bin_end(i, s.in_h, s.out_h);
    const int64_t w0 = adaptive_bin_start(j, s.in_w, s.out_w),
                  w1 = adaptive_bin_end(j, s.in_w, s.out_w);
    Acc sum = 0;
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t w = w0; w < w1; ++w) sum += Acc(in[st.at(n, c, h, w)]);
    }
    out[o] = static_cast<T>(sum / Acc((h1 - h0) * (w1 - w0)));
  }
}

// Bins along one dim that may hold position x: a superset of [floor(x*out/in), ceil((x+1)*out/in))
// clipped to [0, out); callers check membership.
__device__ void candidates(int64_t x, int64_t in, int64_t out, int64_t* first, int64_t* last) {
  *first = max(int64_t{0}, x * out / in - 1);
  *last = min(out, ((x + 1) * out + in - 1) / in + 1);
}

template <typename T>
__global__ void adaptive_backward(int64_t total, Sizes s, Strides4 gs, const T* grad, T* out) {
  using Acc = cuda_acc_t<T>;
  for (int64_t e = grid_first(); e < total; e += grid_step()) {
    const auto [n, c, h, w] = nchw_index(e, s.channels, s.in_h, s.in_w);
    int64_t i0, i1, j0, j1;
    candidates(h, s.in_h, s.out_h, &i0, &i1);
    candidates(w, s.in_w, s.out_w, &j0, &j1);
    Acc sum = 0;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t h0 = adaptive_bin_start(i, s.in_h, s.out_h),
                    h1 = adaptive_bin_end(i, s.in_h, s.out_h);
      if (h < h0 || h >= h1) continue;
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t w0 = adaptive_bin_start(j, s.in_w, s.out_w),
                      w1 = adaptive_bin_end(j, s.in_w, s.out_w);
        if (w < w0 || w >= w1) continue;
        sum += Acc(grad[gs.at(n, c, i, j)]) / Acc((h1 - h0) * (w1 - w0));
      }
    }
    out[e] = static_cast<T>(sum);
  }
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& input = ctx.input(0);
  const Shape shape = adaptive_avg_pool2d_output_shape(input.shape(), ctx.attrs());
  const Sizes s{shape[1], input.size(2), input.size(3), shape[2], shape[3]};
  with_pool_output(ctx.output(0, shape, input.dtype()), input.device(), false,
                   [&](const Tensor& out, cudaStream_t stream) {
                     OSPREY_DISPATCH_FLOAT(input.dtype(), "adaptive_avg_pool2d", [&]<typename T>() {
                       launch_per_element(adaptive_forward<T>, out.numel(), stream, s,
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
  const Sizes s{input_size[1], input_size[2], input_size[3], grad.size(2), grad.size(3)};
  with_pool_output(
      ctx.output(0, input_size, grad.dtype()), grad.device(), false,
      [&](const Tensor& out, cudaStream_t stream) {
        OSPREY_DISPATCH_FLOAT(grad.dtype(), "adaptive_avg_pool2d_backward", [&]<typename T>() {
          launch_per_element(adaptive_backward<T>, out.numel(), stream, s, Strides4(grad),
                             static_cast<const T*>(grad.raw_data()),
                             static_cast<T*>(out.raw_data()));
        });
      });
}

const bool registered = [] {
  register_kernel("adaptive_avg_pool2d", DeviceType::cuda, "native", 0, forward_kernel,
                  inputs_are_float, "thread per output averaging its bin, any input layout");
  register_kernel("adaptive_avg_pool2d_backward", DeviceType::cuda, "native", 0, backward_kernel,
                  inputs_are_float, "gather: thread per input element over the bins holding it");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
