// CUDA kernels of relu, sigmoid, tanh, softplus and their backward ops: the element-wise loop
// (cuda_map: 16-byte vectors when contiguous, strided and broadcasting otherwise), f16/bf16 in
// float. The formulas are activation_math.h's, shared with the CPU reference (including its
// overflow-free sigmoid).
#include "ops/activation/activation_math.h"
#include "ops/common/cuda_unary.cuh"

namespace osprey::ops {
namespace {

void relu_kernel(KernelContext& ctx) {
  numeric_unary_cuda<ReluFn>(ctx);
}
void sigmoid_kernel(KernelContext& ctx) {
  float_unary_cuda<SigmoidFn>(ctx);
}
void tanh_kernel(KernelContext& ctx) {
  float_unary_cuda<TanhFn>(ctx);
}
void softplus_kernel(KernelContext& ctx) {
  float_unary_cuda<SoftplusFn>(ctx, ctx.attrs().get_float("beta"),
                               ctx.attrs().get_float("threshold"));
}
void threshold_backward_kernel(KernelContext& ctx) {
  float_binary_cuda<ThresholdBackwardFn>(ctx, ctx.attrs().get_float("threshold"));
}
void sigmoid_backward_kernel(KernelContext& ctx) {
  float_binary_cuda<SigmoidBackwardFn>(ctx);
}
void tanh_backward_kernel(KernelContext& ctx) {
  float_binary_cuda<TanhBackwardFn>(ctx);
}
void softplus_backward_kernel(KernelContext& ctx) {
  float_binary_cuda<SoftplusBackwardFn>(ctx, ctx.attrs().get_float("beta"),
                                        ctx.attrs().get_float("threshold"));
}

const bool registered = [] {
  const char* doc = "element-wise loop (cuda_map); f16/bf16 compute in float";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cuda, "native", 0, fn, {}, doc);
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
