// cuda/native kernels of max_pool2d and max_pool2d_backward.
//   forward: one thread per output element searching its window in the reference's order (same
//     winner, same index; NaN wins), reading the input through its strides (any layout) and
//     writing contiguous NCHW values and i64 indices.
//   backward: one thread per grad_output element adding it at its saved index with an atomic add.
//     The op carries only the indices (no window geometry), so the gather formulation used for
//     the average pools is not available; with overlapping windows two outputs may hit the same
//     input element, and float atomics make the sum's order (its last bits) vary from run to run.
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "ops/common/cuda_index.cuh"
#include "ops/pool/pool_cuda.cuh"
#include "ops/pool/pool_geometry.h"

namespace osprey::ops {
namespace {

template <typename T>
__global__ void max_pool_forward(int64_t total, Pool2d g, Strides4 st, const T* in, T* out,
                                 int64_t* indices) {
  for (int64_t o = grid_first(); o < total; o += grid_step()) {
    const auto [n, c, i, j] = nchw_index(o, g.channels, g.out_h, g.out_w);
    WindowMax<T> m;
    for (int64_t a = 0; a < g.kernel_h; ++a) {
      const int64_t h = i * g.stride_h - g.pad_h + a * g.dilation_h;
      if (h < 0 || h >= g.in_h) continue;
      for (int64_t b = 0; b < g.kernel_w; ++b) {
        const int64_t w = j * g.stride_w - g.pad_w + b * g.dilation_w;
        if (w < 0 || w >= g.in_w) continue;
        m.add(in[st.at(n, c, h, w)], h * g.in_w + w);
      }
    }
    out[o] = m.best;
    indices[o] = m.index;
  }
}

template <typename T>
__global__ void max_pool_backward(int64_t total, int64_t channels, int64_t out_h, int64_t out_w,
                                  int64_t plane, Strides4 gs, Strides4 is, const T* grad,
                                  const int64_t* indices, T* out) {
  for (int64_t o = grid_first(); o < total; o += grid_step()) {
    const auto [n, c, i, j] = nchw_index(o, channels, out_h, out_w);
    const int64_t k = indices[is.at(n, c, i, j)];
    if (k < 0) continue;  // a window that held no input element
    cuda_check_index("max_pool2d_backward", "indices", k, plane);
    cuda_atomic_add(out + (n * channels + c) * plane + k, grad[gs.at(n, c, i, j)]);
  }
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& input = ctx.input(0);
  const Pool2d g = pool2d_geometry(ctx.attrs(), input.shape(), "max_pool2d");
  const Tensor& given = ctx.output(0, g.output_shape(), input.dtype());
  const Tensor& given_indices = ctx.output(1, g.output_shape(), DType::i64);
  Tensor out = pool_scratch_for(given), indices = pool_scratch_for(given_indices);
  const int64_t total = out.numel();
  if (total > 0) {
    cuda::DeviceGuard guard(input.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(input.dtype(), "max_pool2d", [&]<typename T>() {
      launch_per_element(max_pool_forward<T>, total, stream, g, Strides4(input),
                         static_cast<const T*>(input.raw_data()), static_cast<T*>(out.raw_data()),
                         static_cast<int64_t*>(indices.raw_data()));
    });
  }
  store_pool_output(given, out);
  store_pool_output(given_indices, indices);
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& grad = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Shape input_size = ctx.attrs().get_ints("input_size");
  with_pool_output(ctx.output(0, input_size, grad.dtype()), grad.device(), true,
                   [&](const Tensor& out, cudaStream_t stream) {
                     if (grad.numel() == 0) return;
                     OSPREY_DISPATCH_FLOAT(grad.dtype(), "max_pool2d_backward", [&]<typename T>() {
                       launch_per_element(max_pool_backward<T>, grad.numel(), stream, grad.size(1),
                                          grad.size(2), grad.size(3), input_size[2] * input_size[3],
                                          Strides4(grad), Strides4(indices),
                                          static_cast<const T*>(grad.raw_data()),
                                          static_cast<const int64_t*>(indices.raw_data()),
                                          static_cast<T*>(out.raw_data()));
                     });
                   });
}

// grad_output decides (indices are i64).
bool float_grad(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("max_pool2d", DeviceType::cuda, "native", 0, forward_kernel, inputs_are_float,
                  "thread per output searching its window, any input layout");
  register_kernel("max_pool2d_backward", DeviceType::cuda, "native", 0, backward_kernel, float_grad,
                  "thread per grad_output element, atomic add at its index");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
