// CPU reference kernels of the comparisons: one broadcasting loop (cpu_map) per op over every
// dtype, writing bool. f16/bf16 compare in float.
#include "ops/common/cpu_loops.h"
#include "ops/elementwise/elementwise_functors.h"

namespace osprey::ops {
namespace {

template <Cmp K>
void compare_kernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), ctx.op().schema.name.c_str());
  const Tensor& out = ctx.output(0, shape, DType::boolean);
  OSPREY_DISPATCH_ALL(a.dtype(), ctx.op().schema.name.c_str(),
                      [&]<typename T>() { cpu_map<bool, T, T>(out, CompareFn<T, K>{}, a, b); });
}

const bool registered = [] {
  const char* doc = "broadcasting loop over any dtype, bool output";
  auto reg = [doc](const char* op, void (*fn)(KernelContext&)) {
    register_kernel(op, DeviceType::cpu, "reference", 0, fn, {}, doc);
  };
  reg("eq", compare_kernel<Cmp::eq>);
  reg("ne", compare_kernel<Cmp::ne>);
  reg("lt", compare_kernel<Cmp::lt>);
  reg("le", compare_kernel<Cmp::le>);
  reg("gt", compare_kernel<Cmp::gt>);
  reg("ge", compare_kernel<Cmp::ge>);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
