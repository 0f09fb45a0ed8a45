// Element-wise loops for CUDA kernels. `cuda_map<R, A...>(out, f, ins...)` writes
// out[i] = f(in0[i], in1[i], ...) over the broadcast of the inputs to out's shape, on the current
// stream of out's device:
//   - contiguous fast path: every operand contiguous with out's shape and 16-byte aligned — each
//     thread loads and stores whole 16-byte vectors (float4, 8 halves, ...), which is what it takes
//     to stream at close to memcpy bandwidth;
//   - strided path: any strides and broadcasting, through OffsetCalculator (one div/mod per dim).
// `f` is a functor (a struct with a __host__ __device__ operator(); device lambdas cannot live in
// the templated dtype-dispatch lambdas), copied to the device by value.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "framework/autograd/grad_mode.h"
#include "framework/core/offset_calculator.h"
#include "framework/core/tensor.h"
#include "framework/cuda/check.h"
#include "framework/cuda/context.h"
#include "ops/common/compute_type.h"
#include "ops/common/cpu_loops.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

namespace cuda_detail {

inline constexpr int kThreads = 256;
inline constexpr int kVectorBytes = 16;

template <typename T, int N>
struct alignas(sizeof(T) * N) Vector {
  T v[N];
};

template <typename R, typename... A>
constexpr int vector_width() {
  constexpr size_t widest = std::max({sizeof(R), sizeof(A)...});
  return static_cast<int>(kVectorBytes / widest) > 0 ? static_cast<int>(kVectorBytes / widest) : 1;
}

template <int N, typename R, typename F, typename... A>
OSPREY_INLINE void apply_vector(const F& f, Vector<R, N>& out, const Vector<A, N>&... in) {
#pragma unroll
  for (int k = 0; k < N; ++k) out.v[k] = static_cast<R>(f(in.v[k]...));
}

template <int N, typename R, typename F, typename... A>
__global__ void contiguous_map_kernel(int64_t n, F f, R* out, const A*... in) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t vectors = n / N;
  for (int64_t i = tid; i < vectors; i += stride) {
    Vector<R, N> result;
    apply_vector<N>(f, result, reinterpret_cast<const Vector<A, N>*>(in)[i]...);
    reinterpret_cast<Vector<R, N>*>(out)[i] = result;
  }
  for (int64_t i = vectors * N + tid; i < n; i += stride) out[i] = static_cast<R>(f(in[i]...));
}

template <typename R, typename F, size_t... I, typename... A>
OSPREY_INLINE void store_strided(R* out, const int64_t* off, const F& f, std::index_sequence<I...>,
                                 const A*... in) {
  out[off[0]] = static_cast<R>(f(in[off[I + 1]]...));
}

template <typename R, typename F, typename... A>
__global__ void strided_map_kernel(int64_t n, F f, OffsetCalculator<sizeof...(A) + 1> calc, R* out,
                                   const A*... in) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t off[sizeof...(A) + 1];
    calc.offsets(i, off);
    store_strided(out, off, f, std::index_sequence_for<A...>{}, in...);
  }
}

// Enough blocks to fill the device several times over; loops stride over the rest.
inline unsigned blocks_for(int64_t work) {
  int64_t cap = static_cast<int64_t>(cuda::sm_count(cuda::current_device())) * 32;
  int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(blocks, cap)));
}

inline bool aligned(const void* p, size_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

}  // namespace cuda_detail

template <typename R, typename... A, typename F>
void cuda_map(const Tensor& out, F f, const std::conditional_t<true, Tensor, A>&... ins) {
  using namespace cuda_detail;
  constexpr int N = sizeof...(A) + 1;
  const int64_t n = out.numel();
  if (n == 0) return;
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream();
  R* out_ptr = static_cast<R*>(out.raw_data());
  constexpr int V = vector_width<R, A...>();
  bool vectorisable =
      aligned(out_ptr, sizeof(R) * V) && (aligned(ins.raw_data(), sizeof(A) * V) && ... && true);
  if (vectorisable && all_contiguous_same_shape(out, {&ins...})) {
    contiguous_map_kernel<V, R, F, A...><<<blocks_for(n / V + 1), kThreads, 0, stream>>>(
        n, f, out_ptr, static_cast<const A*>(ins.raw_data())...);
  } else {
    auto calc = make_offset_calculator<N>(out, {&out, &ins...});
    strided_map_kernel<R, F, A...><<<blocks_for(n), kThreads, 0, stream>>>(
        n, f, calc, out_ptr, static_cast<const A*>(ins.raw_data())...);
  }
  OSPREY_CUDA_LAUNCH_CHECK();
}

// Inputs must share out's device: kernels check once at their boundary.
inline void check_cuda_operands(const KernelContext& ctx) {
  for (const auto& t : ctx.inputs()) {
    if (t.defined()) {
      OSPREY_CHECK_KIND(device, t.device().is_cuda(), "op '{}': {} is not on a CUDA device",
                        ctx.op().schema.name, t.describe());
    }
  }
}

// by_float_dtype (op_helpers.h) for CUDA kernels: checks every operand is on a CUDA device, makes
// input 0's device current and runs without recording autograd (layout copies made inside are not
// part of the graph).
template <void (*F32)(KernelContext&), void (*F64)(KernelContext&)>
void on_cuda_by_float_dtype(KernelContext& ctx) {
  check_cuda_operands(ctx);
  cuda::DeviceGuard guard(ctx.input(0).device().index);
  autograd::NoGradGuard no_grad;
  by_float_dtype<F32, F64>(ctx);
}

}  // namespace osprey::ops
