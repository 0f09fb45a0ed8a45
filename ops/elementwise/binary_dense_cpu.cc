// cpu/dense kernel of add: same-shape channels-last operands with equal strides (dense_cpu.h),
// f32 and f64, the output channels-last too. The autograd engine's gradient sums and a ResNet's
// residual joins are such adds; the reference loop walks their strides (20-60x slower on the
// ResNet-20 shapes, bench/cnn_memory_ops_bench.cc), while contiguous operands already take its
// flat path.
#include "ops/elementwise/dense_cpu.h"

namespace osprey::ops {
namespace {

bool dense_supported(const KernelContext& ctx) {
  return inputs_are_float(ctx) && dense_channels_last({&ctx.input(0), &ctx.input(1)});
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
