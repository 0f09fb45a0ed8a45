// Shared pieces of the element-wise CPU reference kernels (elementwise and activation folders):
// the one- and two-input loops that compute in compute_t (f16/bf16 widen to float).
#pragma once

#include <type_traits>

#include "ops/common/compute_type.h"
#include "ops/common/cpu_loops.h"

namespace osprey::ops {

// out = f(input) over floating dtypes (f32, f64, f16, bf16), same shape and dtype as the input.
// `f` is a generic callable taking and returning the compute type.
template <typename F>
void float_unary_kernel(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(x.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = compute_t<T>;
    cpu_map<T, T>(
        out, [f](T v) { return T(f(C(v))); }, x);
  });
}

// out = f(input) over every numeric dtype (bool is rejected); f takes and returns the compute type.
template <typename F>
void numeric_unary_kernel(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  const Tensor& out = ctx.output(0, x.shape(), x.dtype());
  OSPREY_DISPATCH_ALL(x.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(x.dtype(), ctx.op().schema.name.c_str());
    } else {
      using C = compute_t<T>;
      cpu_map<T, T>(
          out, [f](T v) { return T(f(C(v))); }, x);
    }
  });
}

// out = f(a, b) over floating dtypes with broadcasting; a and b share a dtype (validated).
template <typename F>
void float_binary_kernel(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), ctx.op().schema.name.c_str());
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = compute_t<T>;
    cpu_map<T, T, T>(
        out, [f](T x, T y) { return T(f(C(x), C(y))); }, a, b);
  });
}

}  // namespace osprey::ops
