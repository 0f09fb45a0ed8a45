// cpu/dense kernels of relu and threshold_backward: channels-last operands of equal strides
// (ops/elementwise/dense_cpu.h), f32 and f64; the output stays channels-last. The reference's
// strided loop is 80-170x slower there on the ResNet-20 shapes (bench/cnn_memory_ops_bench.cc);
// contiguous operands already take its flat path. The formulas are activation_math.h's.
#include "ops/activation/activation_math.h"
#include "ops/elementwise/dense_cpu.h"

namespace osprey::ops {
namespace {

bool relu_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && dense_channels_last({&ctx.input(0)});
}

void relu_kernel(KernelContext& ctx) {
  dense_float_kernel<1>(ctx, *dense_format({&ctx.input(0)}),
                        [](auto x) { return ReluFn<decltype(x)>{}(x); });
}

bool threshold_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && dense_channels_last({&ctx.input(0), &ctx.input(1)});
}

void threshold_backward_kernel(KernelContext& ctx) {
  const double threshold = ctx.attrs().get_float("threshold");
  dense_float_kernel<2>(ctx, *dense_format({&ctx.input(0), &ctx.input(1)}),
                        [threshold](auto g, auto x) {
                          using C = decltype(g);
                          return ThresholdBackwardFn<C>{static_cast<C>(threshold)}(g, x);
                        });
}

const bool registered = [] {
  const char* doc = "dense operands (contiguous or channels-last): one flat loop";
  register_kernel("relu", DeviceType::cpu, "dense", 10, relu_kernel, relu_supported, doc);
  register_kernel("threshold_backward", DeviceType::cpu, "dense", 10, threshold_backward_kernel,
                  threshold_supported, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
