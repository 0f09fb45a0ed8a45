// CPU reference kernel of where: one broadcasting loop (cpu_map) over any dtype of input/other.
#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

void where_kernel(KernelContext& ctx) {
  const Tensor& c = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  const Tensor& out = ctx.output(0, broadcast_input_shapes(ctx), a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), "where", [&]<typename T>() {
    cpu_map<T, bool, T, T>(
        out, [](bool k, T x, T y) { return k ? x : y; }, c, a, b);
  });
}

const bool registered = [] {
  register_kernel("where", DeviceType::cpu, "reference", 0, where_kernel, {},
                  "broadcasting select over any dtype");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
