// CPU kernels of add_relu.
//   reference: the broadcasting element-wise loop (cpu_map), f32/f64/f16/bf16 (in float).
//   dense: same-shape operands with equal strides, contiguous or channels-last (a ResNet's
//     residual join): one flat vectorised loop split across threads, the output in the inputs'
//     layout. f32 and f64.
#include "ops/add_relu/add_relu_math.h"
#include "ops/elementwise/dense_cpu.h"
#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

void reference_kernel(KernelContext& ctx) {
  float_binary_kernel(ctx, []<typename C>(C a, C b) { return AddReluFn<C>{}(a, b); });
}

bool dense_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && dense_format({&ctx.input(0), &ctx.input(1)}).has_value();
}

void dense_kernel(KernelContext& ctx) {
  const MemoryFormat format = *dense_format({&ctx.input(0), &ctx.input(1)});
  dense_float_kernel<2>(ctx, format, [](auto a, auto b) { return AddReluFn<decltype(a)>{}(a, b); });
}

const bool registered = [] {
  register_kernel("add_relu", DeviceType::cpu, "reference", 0, reference_kernel, {},
                  "element-wise loop (cpu_map); f16/bf16 compute in float");
  register_kernel("add_relu", DeviceType::cpu, "dense", 10, dense_kernel, dense_supported,
                  "same-shape dense operands (contiguous or channels-last): one flat loop");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
