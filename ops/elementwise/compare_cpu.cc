// CPU reference kernels of the comparisons: one broadcasting loop (cpu_map) per op over every
// dtype, writing bool. f16/bf16 compare in float.
#include "ops/elementwise/elementwise_cpu.h"

namespace osprey::ops {
namespace {

template <typename Cmp>
void compare_kernel(KernelContext& ctx, Cmp cmp) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), ctx.op().schema.name.c_str());
  const Tensor& out = ctx.output(0, shape, DType::boolean);
  OSPREY_DISPATCH_ALL(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    using C = ComputeType<T>;
    cpu_map<bool, T, T>(
        out, [cmp](T x, T y) { return cmp(C(x), C(y)); }, a, b);
  });
}

const bool registered = [] {
  const char* doc = "broadcasting loop over any dtype, bool output";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cpu, "reference", 0, fn, {}, doc);
  };
  reg("eq", [](KernelContext& c) { compare_kernel(c, [](auto x, auto y) { return x == y; }); });
  reg("ne", [](KernelContext& c) { compare_kernel(c, [](auto x, auto y) { return x != y; }); });
  reg("lt", [](KernelContext& c) { compare_kernel(c, [](auto x, auto y) { return x < y; }); });
  reg("le", [](KernelContext& c) { compare_kernel(c, [](auto x, auto y) { return x <= y; }); });
  reg("gt", [](KernelContext& c) { compare_kernel(c, [](auto x, auto y) { return x > y; }); });
  reg("ge", [](KernelContext& c) { compare_kernel(c, [](auto x, auto y) { return x >= y; }); });
  return true;
}();

}  // namespace
}  // namespace osprey::ops
