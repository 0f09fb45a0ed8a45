// CUDA kernels of relu, sigmoid, tanh, softplus and their backward ops: the element-wise loop
// (cuda_map: 16-byte vectors when contiguous, strided and broadcasting otherwise), f16/bf16 in
// float. The formulas are the CPU reference's, including its overflow-free sigmoid.
#include "ops/common/cuda_unary.cuh"

namespace osprey::ops {
namespace {

template <typename C>
OSPREY_INLINE C stable_sigmoid(C x) {
  if (x >= C(0)) return C(1) / (C(1) + ::exp(-x));
  C e = ::exp(x);
  return e / (C(1) + e);
}

template <typename C>
struct ReluFn {
  OSPREY_INLINE C operator()(C x) const { return x > C(0) ? x : C(0); }
};
template <typename C>
struct SigmoidFn {
  OSPREY_INLINE C operator()(C x) const { return stable_sigmoid(x); }
};
template <typename C>
struct TanhFn {
  OSPREY_INLINE C operator()(C x) const { return ::tanh(x); }
};
template <typename C>
struct SoftplusFn {
  C beta, threshold;
  OSPREY_INLINE C operator()(C x) const {
    C bx = beta * x;
    return bx > threshold ? x : ::log1p(::exp(bx)) / beta;
  }
};
template <typename C>
struct ThresholdBackwardFn {
  C threshold;
  OSPREY_INLINE C operator()(C g, C x) const { return x > threshold ? g : C(0); }
};
template <typename C>
struct SigmoidBackwardFn {
  OSPREY_INLINE C operator()(C g, C y) const { return g * y * (C(1) - y); }
};
template <typename C>
struct TanhBackwardFn {
  OSPREY_INLINE C operator()(C g, C y) const { return g * (C(1) - y * y); }
};
template <typename C>
struct SoftplusBackwardFn {
  C beta, threshold;
  OSPREY_INLINE C operator()(C g, C x) const {
    C bx = beta * x;
    return bx > threshold ? g : g * stable_sigmoid(bx);
  }
};

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
