// Shorthands for element-wise CUDA kernels over cuda_map: a functor template Fn<C> computes in
// the compute type C (float for f16/bf16) and the helpers dispatch the dtype, allocate the output
// and launch.
//   float_unary_cuda<Fn>(ctx, args...)    out = Fn<C>{args...}(x), floating dtypes
//   numeric_unary_cuda<Fn>(ctx, args...)  the same over every numeric dtype (bool rejected)
//   float_binary_cuda<Fn>(ctx, args...)   out = Fn<C>{args...}(a, b), broadcasting, floating
#pragma once

#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {

namespace cuda_detail {

// Wraps a compute-type functor into a storage-type one.
template <typename T, typename F>
struct InComputeType {
  F f;
  template <typename... V>
  OSPREY_INLINE T operator()(V... v) const {
    return static_cast<T>(f(static_cast<compute_t<T>>(v)...));
  }
};

}  // namespace cuda_detail

template <template <typename> class Fn, typename... Args>
void float_unary_cuda(KernelContext& ctx, Args... args) {
  check_cuda_operands(ctx);
  const Tensor& x = ctx.input(0);
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(x.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = compute_t<T>;
    using F = Fn<C>;
    cuda_map<T, T>(out, cuda_detail::InComputeType<T, F>{F{static_cast<C>(args)...}}, x);
  });
}

template <template <typename> class Fn, typename... Args>
void numeric_unary_cuda(KernelContext& ctx, Args... args) {
  check_cuda_operands(ctx);
  const Tensor& x = ctx.input(0);
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  const char* name = ctx.op().schema.name.c_str();
  OSPREY_DISPATCH_ALL(x.dtype(), name, [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(x.dtype(), name);
    } else {
      using C = compute_t<T>;
      using F = Fn<C>;
      cuda_map<T, T>(out, cuda_detail::InComputeType<T, F>{F{args...}}, x);
    }
  });
}

template <template <typename> class Fn, typename... Args>
void float_binary_cuda(KernelContext& ctx, Args... args) {
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), ctx.op().schema.name.c_str());
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = compute_t<T>;
    using F = Fn<C>;
    cuda_map<T, T, T>(out, cuda_detail::InComputeType<T, F>{F{static_cast<C>(args)...}}, a, b);
  });
}

}  // namespace osprey::ops
