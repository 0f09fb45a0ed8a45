// CPU reference kernels of maximum, minimum (any numeric dtype) and maximum_backward (floating):
// broadcasting loops (cpu_map). f16/bf16 compute in float.
#include <cmath>

#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

template <typename Pick>
void minmax_kernel(KernelContext& ctx, Pick pick) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), name, [&]<typename T>() {
    using C = ComputeType<T>;
    cpu_map<T, T, T>(
        out,
        [pick](T x, T y) -> T {
          C cx = C(x), cy = C(y);
          if constexpr (std::is_floating_point_v<C>) {
            if (std::isnan(cx)) return x;
            if (std::isnan(cy)) return y;
          }
          return pick(cx, cy) ? x : y;
        },
        a, b);
  });
}

void maximum_backward_kernel(KernelContext& ctx) {
  const Tensor& g = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  Shape shape = broadcast_shapes(broadcast_shapes(g.shape(), a.shape(), "maximum_backward"),
                                 b.shape(), "maximum_backward");
  const Tensor& out = ctx.output(0, shape, g.dtype());
  OSPREY_DISPATCH_FLOAT_AND_HALF(g.dtype(), "maximum_backward", [&]<typename T>() {
    using C = ComputeType<T>;
    cpu_map<T, T, T, T>(
        out,
        [](T gv, T x, T y) -> T {
          C cx = C(x), cy = C(y);
          return T(cx > cy ? C(gv) : cx == cy ? C(gv) * C(0.5) : C(0));
        },
        g, a, b);
  });
}

const bool registered = [] {
  const char* doc = "broadcasting loop (cpu_map)";
  register_kernel(
      "maximum", DeviceType::cpu, "reference", 0,
      [](KernelContext& c) { minmax_kernel(c, [](auto x, auto y) { return x >= y; }); }, {}, doc);
  register_kernel(
      "minimum", DeviceType::cpu, "reference", 0,
      [](KernelContext& c) { minmax_kernel(c, [](auto x, auto y) { return x <= y; }); }, {}, doc);
  register_kernel("maximum_backward", DeviceType::cpu, "reference", 0, maximum_backward_kernel, {},
                  doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
