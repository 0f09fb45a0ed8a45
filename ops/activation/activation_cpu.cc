// CPU reference kernels of relu, sigmoid, tanh, softplus and their backward ops: the element-wise
// loop (cpu_map), flat and vectorisable when contiguous. f16/bf16 compute in float. The formulas
// are activation_math.h's, shared with the CUDA kernels.
#include "ops/activation/activation_math.h"
#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

void relu_kernel(KernelContext& ctx) {
  numeric_unary_kernel(ctx, []<typename C>(C x) { return ReluFn<C>{}(x); });
}
void sigmoid_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, []<typename C>(C x) { return SigmoidFn<C>{}(x); });
}
void tanh_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, []<typename C>(C x) { return TanhFn<C>{}(x); });
}
void softplus_kernel(KernelContext& ctx) {
  double beta = ctx.attrs().get_float("beta"), threshold = ctx.attrs().get_float("threshold");
  float_unary_kernel(ctx, [beta, threshold]<typename C>(C x) {
    return SoftplusFn<C>{C(beta), C(threshold)}(x);
  });
}

void threshold_backward_kernel(KernelContext& ctx) {
  double threshold = ctx.attrs().get_float("threshold");
  float_binary_kernel(ctx, [threshold]<typename C>(C g, C x) {
    return ThresholdBackwardFn<C>{C(threshold)}(g, x);
  });
}
void sigmoid_backward_kernel(KernelContext& ctx) {
  float_binary_kernel(ctx, []<typename C>(C g, C y) { return SigmoidBackwardFn<C>{}(g, y); });
}
void tanh_backward_kernel(KernelContext& ctx) {
  float_binary_kernel(ctx, []<typename C>(C g, C y) { return TanhBackwardFn<C>{}(g, y); });
}
void softplus_backward_kernel(KernelContext& ctx) {
  double beta = ctx.attrs().get_float("beta"), threshold = ctx.attrs().get_float("threshold");
  float_binary_kernel(ctx, [beta, threshold]<typename C>(C g, C x) {
    return SoftplusBackwardFn<C>{C(beta), C(threshold)}(g, x);
  });
}

const bool registered = [] {
  const char* doc = "element-wise loop (cpu_map); f16/bf16 compute in float";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cpu, "reference", 0, fn, {}, doc);
  };
  reg("relu", relu_kernel);
  reg("sigmoid", sigmoid_kernel);
  reg("tanh", tanh_kernel);
  reg("softplus", softplus_kernel);
  reg("threshold_backward", threshold_backward_kernel);
  reg("sigmoid_backward", sigmoid_backward_kernel);
  reg("tanh_backward", tanh_backward_kernel);
  reg("softplus_backward", softplus_backward_kernel);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
