// CPU reference kernels of maximum, minimum (any numeric dtype) and maximum_backward (floating):
// broadcasting loops (cpu_map). f16/bf16 compute in float.
#include "ops/common/cpu_loops.h"
#include "ops/elementwise/elementwise_functors.h"

namespace osprey::ops {
namespace {

template <bool Max>
void minmax_kernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), name,
                      [&]<typename T>() { cpu_map<T, T, T>(out, PickFn<T, Max>{}, a, b); });
}

void maximum_backward_kernel(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  const Tensor& out = ctx.output(0, broadcast_input_shapes(ctx), g.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(g.dtype(), "maximum_backward", [&]<typename T>() {
    cpu_map<T, T, T, T>(out, MaximumBackwardFn<T>{}, g, a, b);
  });
}

const bool registered = [] {
  const char* doc = "broadcasting loop (cpu_map)";
  register_kernel("maximum", DeviceType::cpu, "reference", 0, minmax_kernel<true>, {}, doc);
  register_kernel("minimum", DeviceType::cpu, "reference", 0, minmax_kernel<false>, {}, doc);
  register_kernel("maximum_backward", DeviceType::cpu, "reference", 0, maximum_backward_kernel, {},
                  doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
