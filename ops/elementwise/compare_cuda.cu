// CUDA kernels of the comparisons (eq, ne, lt, le, gt, ge -> bool), where, maximum, minimum,
// maximum_backward and pow_tensor: broadcasting element-wise loops (cuda_map), the CPU
// reference's formulas with f16/bf16 in float.
#include <cmath>

#include "ops/common/cuda_unary.cuh"
#include "ops/elementwise/elementwise_functors.h"

namespace osprey::ops {
namespace {

template <Cmp K>
void compare_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, DType::boolean);
  OSPREY_DISPATCH_ALL(a.dtype(), name,
                      [&]<typename T>() { cuda_map<bool, T, T>(out, CompareFn<T, K>{}, a, b); });
}

template <typename T>
struct WhereFn {
  OSPREY_INLINE T operator()(bool k, T x, T y) const { return k ? x : y; }
};

void where_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& c = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  const Tensor& out = ctx.output(0, broadcast_input_shapes(ctx), a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), "where",
                      [&]<typename T>() { cuda_map<T, bool, T, T>(out, WhereFn<T>{}, c, a, b); });
}

template <bool Max>
void minmax_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), name,
                      [&]<typename T>() { cuda_map<T, T, T>(out, PickFn<T, Max>{}, a, b); });
}

void maximum_backward_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& g = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  const Tensor& out = ctx.output(0, broadcast_input_shapes(ctx), g.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(g.dtype(), "maximum_backward", [&]<typename T>() {
    cuda_map<T, T, T, T>(out, MaximumBackwardFn<T>{}, g, a, b);
  });
}

template <typename C>
struct PowTensorFn {
  OSPREY_INLINE C operator()(C x, C e) const { return ::pow(x, e); }
};

void pow_tensor_kernel(KernelContext& ctx) {
  float_binary_cuda<PowTensorFn>(ctx);
}

const bool registered = [] {
  const char* doc = "broadcasting element-wise loop (cuda_map)";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cuda, "native", 0, fn, {}, doc);
  };
  reg("eq", compare_kernel<Cmp::eq>);
  reg("ne", compare_kernel<Cmp::ne>);
  reg("lt", compare_kernel<Cmp::lt>);
  reg("le", compare_kernel<Cmp::le>);
  reg("gt", compare_kernel<Cmp::gt>);
  reg("ge", compare_kernel<Cmp::ge>);
  reg("where", where_kernel);
  reg("maximum", minmax_kernel<true>);
  reg("minimum", minmax_kernel<false>);
  reg("maximum_backward", maximum_backward_kernel);
  reg("pow_tensor", pow_tensor_kernel);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
