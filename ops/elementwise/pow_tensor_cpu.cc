// CPU reference kernel of pow_tensor: std::pow in a broadcasting loop (cpu_map); f16/bf16 compute
// in float.
#include <cmath>

#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

const bool registered = [] {
  register_kernel(
      "pow_tensor", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        float_binary_kernel(ctx, [](auto x, auto e) { return std::pow(x, e); });
      },
      {}, "broadcasting loop (cpu_map) around std::pow");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
