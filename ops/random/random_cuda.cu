// CUDA kernels of uniform, normal and bernoulli: one thread per Philox block, writing the four
// elements the block serves, with the same per-element arithmetic as the CPU reference
// (random_elements.h), so a (seed, offset) pair gives the same numbers on both devices (normals up
// to libm-versus-CUDA-math rounding). f32 and f64; launched on the current stream of the output's
// device, with that device made current for the launch.
#include <cuda_runtime.h>

#include "framework/cuda/check.h"
#include "framework/cuda/context.h"
#include "ops/common/op_helpers.h"
#include "ops/random/random_elements.h"

namespace osprey::ops {
namespace {

constexpr int kThreads = 256;

using random_detail::philox_position;
using random_detail::PhiloxPosition;

// Fills out[4b .. 4b+3] (those below n) from Philox block offset + b: `block(r, values)` computes
// the four values (UniformBlock, NormalBlock).
template <typename T, typename Block>
__global__ void generate_cuda_kernel(T* out, int64_t n, PhiloxPosition position, Block block) {
  int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t first = 4 * b;
  if (first >= n) return;
  T values[4];
  block(random::philox_block(position.seed, position.offset + b), values);
  for (int k = 0; k < 4 && first + k < n; ++k) out[first + k] = values[k];
}

template <typename T>
struct UniformBlock {
  T low, high;
  OSPREY_INLINE void operator()(const random::PhiloxBlock& r, T values[4]) const {
    random_detail::uniform_block(r, low, high, values);
  }
};

template <typename T>
struct NormalBlock {
  T mean, std;
  OSPREY_INLINE void operator()(const random::PhiloxBlock& r, T values[4]) const {
    random_detail::normal_block(r, mean, std, values);
  }
};

template <typename T>
__global__ void bernoulli_cuda_kernel(const T* p, T* out, int64_t n, PhiloxPosition position) {
  int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t first = 4 * b;
  if (first >= n) return;
  random::PhiloxBlock r = random::philox_block(position.seed, position.offset + b);
  for (int k = 0; k < 4 && first + k < n; ++k) {
    out[first + k] = random_detail::bernoulli_element<T>(r.v[k], p[first + k]);
  }
}

unsigned grid_for(int64_t n) {
  int64_t blocks = (n + 3) / 4;
  return static_cast<unsigned>((blocks + kThreads - 1) / kThreads);
}

// The kernels write element i at offset i, so an output passed in (out=) must be contiguous.
void check_contiguous_output(const KernelContext& ctx, const Tensor& out) {
  OSPREY_CHECK_KIND(value, out.is_contiguous(), "op '{}': output {} must be contiguous",
                    ctx.op().schema.name, out.describe());
}

template <typename T>
void launch_generate(KernelContext& ctx, const Tensor& out, bool is_normal) {
  const int64_t n = out.numel();
  if (n == 0) return;
  T* ptr = static_cast<T*>(out.raw_data());
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream();
  if (is_normal) {
    T mean = T(ctx.attrs().get_float("mean")), std = T(ctx.attrs().get_float("std"));
    generate_cuda_kernel<<<grid_for(n), kThreads, 0, stream>>>(ptr, n, philox_position(ctx),
                                                               NormalBlock<T>{mean, std});
  } else {
    T low = T(ctx.attrs().get_float("low")), high = T(ctx.attrs().get_float("high"));
    generate_cuda_kernel<<<grid_for(n), kThreads, 0, stream>>>(ptr, n, philox_position(ctx),
                                                               UniformBlock<T>{low, high});
  }
  OSPREY_CUDA_LAUNCH_CHECK();
}

void generate_kernel(KernelContext& ctx, bool is_normal) {
  DType dtype = ctx.attrs().get_dtype("dtype");
  const Tensor& out = ctx.output(0, ctx.attrs().get_ints("shape"), dtype);
  check_contiguous_output(ctx, out);
  if (dtype == DType::f32) {
    launch_generate<float>(ctx, out, is_normal);
  } else if (dtype == DType::f64) {
    launch_generate<double>(ctx, out, is_normal);
  } else {
    throw_unsupported_dtype(dtype, ctx.op().schema.name.c_str());
  }
}

template <typename T>
void launch_bernoulli(const Tensor& p, const Tensor& out, PhiloxPosition position) {
  const int64_t n = out.numel();
  if (n == 0) return;
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream();
  bernoulli_cuda_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(
      static_cast<const T*>(p.raw_data()), static_cast<T*>(out.raw_data()), n, position);
  OSPREY_CUDA_LAUNCH_CHECK();
}

void bernoulli_kernel(KernelContext& ctx) {
  Tensor p = ctx.input(0).contiguous();
  const Tensor& out = ctx.output(0, p.shape(), p.dtype());
  check_contiguous_output(ctx, out);
  if (p.dtype() == DType::f32) {
    launch_bernoulli<float>(p, out, philox_position(ctx));
  } else if (p.dtype() == DType::f64) {
    launch_bernoulli<double>(p, out, philox_position(ctx));
  } else {
    throw_unsupported_dtype(p.dtype(), "bernoulli");
  }
}

bool output_dtype_is_float(const KernelContext& ctx) {
  DType dtype = ctx.attrs().get_dtype("dtype");
  return dtype == DType::f32 || dtype == DType::f64;
}

const bool registered = [] {
  register_kernel(
      "uniform", DeviceType::cuda, "philox", 0,
      [](KernelContext& ctx) { generate_kernel(ctx, false); }, output_dtype_is_float,
      "one thread per Philox block (four elements)");
  register_kernel(
      "normal", DeviceType::cuda, "philox", 0,
      [](KernelContext& ctx) { generate_kernel(ctx, true); }, output_dtype_is_float,
      "Box-Muller, one thread per Philox block (four elements)");
  register_kernel("bernoulli", DeviceType::cuda, "philox", 0, bernoulli_kernel, inputs_are_float,
                  "u < p, one thread per Philox block (four elements)");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
