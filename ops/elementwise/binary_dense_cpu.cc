// cpu/dense kernel of add: same-shape operands with equal strides, contiguous or channels-last
// (dense_cpu.h), f32 and f64. The autograd engine's gradient sums and a ResNet's residual joins
// are such adds; in channels-last the reference loop walks strides.
#include "ops/elementwise/dense_cpu.h"

namespace osprey::ops {
namespace {

bool dense_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && dense_format({&ctx.input(0), &ctx.input(1)}).has_value();
}

void add_kernel(KernelContext& ctx) {
  const MemoryFormat format = *dense_format({&ctx.input(0), &ctx.input(1)});
  const double alpha = ctx.attrs().get_float("alpha");
  if (alpha == 1.0) {
    dense_float_kernel<2>(ctx, format, [](auto a, auto b) { return a + b; });
  } else {
    dense_float_kernel<2>(
        ctx, format, [alpha](auto a, auto b) { return a + static_cast<decltype(a)>(alpha) * b; });
  }
}

const bool registered = [] {
  register_kernel("add", DeviceType::cpu, "dense", 10, add_kernel, dense_supported,
                  "same-shape dense operands (contiguous or channels-last): one flat loop");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
