// CPU reference kernels of relu, sigmoid, tanh, softplus and their backward ops: the element-wise
// loop (cpu_map), flat and vectorisable when contiguous. f16/bf16 compute in float.
#include <cmath>

#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

// 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) below: neither form overflows on its side.
template <typename C>
C stable_sigmoid(C x) {
  if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
  C e = std::exp(x);
  return e / (C(1) + e);
}

void relu_kernel(KernelContext& ctx) {
  numeric_unary_kernel(ctx, []<typename C>(C x) -> C { return x > C(0) ? x : C(0); });
}
void sigmoid_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, [](auto x) { return stable_sigmoid(x); });
}
void tanh_kernel(KernelContext& ctx) {
  float_unary_kernel(ctx, [](auto x) { return std::tanh(x); });
}
void softplus_kernel(KernelContext& ctx) {
  double beta = ctx.attrs().get_float("beta"), threshold = ctx.attrs().get_float("threshold");
  float_unary_kernel(ctx, [beta, threshold]<typename C>(C x) -> C {
    C bx = C(beta) * x;
    return bx > C(threshold) ? x : std::log1p(std::exp(bx)) / C(beta);
  });
}

void threshold_backward_kernel(KernelContext& ctx) {
  double threshold = ctx.attrs().get_float("threshold");
  float_binary_kernel(
      ctx, [threshold]<typename C>(C g, C x) -> C { return x > C(threshold) ? g : C(0); });
}
void sigmoid_backward_kernel(KernelContext& ctx) {
  float_binary_kernel(ctx, [](auto g, auto y) { return g * y * (decltype(y)(1) - y); });
}
void tanh_backward_kernel(KernelContext& ctx) {
  float_binary_kernel(ctx, [](auto g, auto y) { return g * (decltype(y)(1) - y * y); });
}
void softplus_backward_kernel(KernelContext& ctx) {
  double beta = ctx.attrs().get_float("beta"), threshold = ctx.attrs().get_float("threshold");
  float_binary_kernel(ctx, [beta, threshold]<typename C>(C g, C x) -> C {
    C bx = C(beta) * x;
    return bx > C(threshold) ? g : g * stable_sigmoid(bx);
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
