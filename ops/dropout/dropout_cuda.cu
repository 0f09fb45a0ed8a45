// cuda/philox kernels of dropout and dropout_backward. dropout runs one thread per Philox block
// (four elements), with the CPU reference's per-element arithmetic (random_elements.h): the same
// (seed, offset) gives the same mask on both devices. Inputs are read contiguously (copied first
// when strided); an out= tensor in another layout gets a copy. f32 and f64.
#include <cuda_runtime.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/random/random_elements.h"

namespace osprey::ops {
namespace {

using random_detail::PhiloxPosition;

// 1 / (1 - p), and 0 for p = 1 where every element is dropped anyway.
double keep_scale(double p) {
  return p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
}

// p = 0 (or eval): out = in and every element kept; otherwise element 4b+k is kept when lane k of
// Philox block offset + b says so.
template <typename T>
__global__ void dropout_forward(int64_t n, bool draw, PhiloxPosition position, T keep_probability,
                                T scale, const T* in, T* out, bool* keep) {
  const int64_t blocks = (n + 3) / 4;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks;
       b += stride) {
    if (!draw) {
      for (int64_t i = 4 * b; i < n && i < 4 * b + 4; ++i) {
        out[i] = in[i];
        keep[i] = true;
      }
      continue;
    }
    const random::PhiloxBlock r =
        random::philox_block(position.seed, position.offset + static_cast<uint64_t>(b));
    for (int k = 0; k < 4 && 4 * b + k < n; ++k) {
      const int64_t i = 4 * b + k;
      const bool kept = random_detail::bernoulli_element<T>(r.v[k], keep_probability) != T(0);
      keep[i] = kept;
      out[i] = kept ? in[i] * scale : T(0);
    }
  }
}

template <typename T>
__global__ void dropout_backward(int64_t n, T scale, const T* grad, const bool* keep, T* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = keep[i] ? grad[i] * scale : T(0);
  }
}

Tensor contiguous_scratch(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

void store(const Tensor& given, const Tensor& result) {
  if (!result.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {result});
}

void forward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor input = ctx.input(0).contiguous();
  const bool training = ctx.attrs().get_bool("training");
  const double p = training ? ctx.attrs().get_float("p") : 0.0;
  const Tensor& given = ctx.output(0, input.shape(), input.dtype());
  const Tensor& given_mask = ctx.output(1, input.shape(), DType::boolean);
  Tensor out = contiguous_scratch(given), mask = contiguous_scratch(given_mask);
  const int64_t n = input.numel();
  if (n > 0) {
    // Positions are read only when drawing, as the CPU kernel does.
    const PhiloxPosition position =
        p == 0.0 ? PhiloxPosition{0, 0} : random_detail::philox_position(ctx);
    cuda::DeviceGuard guard(input.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(input.dtype(), "dropout", [&]<typename T>() {
      dropout_forward<T>
          <<<cuda_detail::blocks_for((n + 3) / 4), cuda_detail::kThreads, 0, stream>>>(
              n, p != 0.0, position, T(1.0 - p), T(keep_scale(p)),
              static_cast<const T*>(input.raw_data()), static_cast<T*>(out.raw_data()),
              static_cast<bool*>(mask.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  store(given, out);
  store(given_mask, mask);
}

void backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  Tensor grad = ctx.input(0).contiguous();
  Tensor mask = ctx.input(1).contiguous();
  const double p = ctx.attrs().get_float("p");
  const Tensor& given = ctx.output(0, grad.shape(), grad.dtype());
  Tensor out = contiguous_scratch(given);
  const int64_t n = grad.numel();
  if (n > 0) {
    cuda::DeviceGuard guard(grad.device().index);
    cudaStream_t stream = cuda::current_stream();
    OSPREY_DISPATCH_FLOAT(grad.dtype(), "dropout_backward", [&]<typename T>() {
      dropout_backward<T><<<cuda_detail::blocks_for(n), cuda_detail::kThreads, 0, stream>>>(
          n, T(keep_scale(p)), static_cast<const T*>(grad.raw_data()),
          static_cast<const bool*>(mask.raw_data()), static_cast<T*>(out.raw_data()));
      OSPREY_CUDA_LAUNCH_CHECK();
    });
  }
  store(given, out);
}

// The values' dtype decides (the mask is bool).
bool float_first_input(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("dropout", DeviceType::cuda, "philox", 0, forward_kernel, float_first_input,
                  "one thread per Philox block (four elements), bernoulli's stream");
  register_kernel("dropout_backward", DeviceType::cuda, "philox", 0, backward_kernel,
                  float_first_input, "masked scale, thread per element");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
