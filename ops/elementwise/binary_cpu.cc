// CPU kernels of add, sub, mul, div and affine. The reference covers every numeric dtype with one
// broadcasting loop (cpu_map: flat and vectorised when operands are contiguous and unbroadcast,
// OpenMP-parallel when large). Arithmetic on f16/bf16 happens in float.
#include "ops/common/cpu_loops.h"
#include "ops/elementwise/elementwise_functors.h"

namespace osprey::ops {
namespace {

// Runs Fn<T>{args...} (args converted to the compute type) over the broadcast of the two inputs.
template <template <typename> class Fn, typename... Args>
void binary_kernel(KernelContext& ctx, Args... args) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), ctx.op().schema.name.c_str());
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), ctx.op().schema.name.c_str(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(a.dtype(), ctx.op().schema.name.c_str());
    } else {
      cpu_map<T, T, T>(out, Fn<T>{static_cast<compute_t<T>>(args)...}, a, b);
    }
  });
}

void add_kernel(KernelContext& ctx) {
  double alpha = ctx.attrs().get_float("alpha");
  if (alpha == 1.0) {
    binary_kernel<PlainAddFn>(ctx);
  } else {
    binary_kernel<AddFn>(ctx, alpha);
  }
}

void sub_kernel(KernelContext& ctx) {
  binary_kernel<SubFn>(ctx, ctx.attrs().get_float("alpha"));
}

void mul_kernel(KernelContext& ctx) {
  binary_kernel<MulFn>(ctx);
}

void div_kernel(KernelContext& ctx) {
  binary_kernel<DivFn>(ctx);
}

void affine_kernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& out = ctx.output(0, a.shape(), a.dtype());
  double scale = ctx.attrs().get_float("scale"), shift = ctx.attrs().get_float("shift");
  OSPREY_DISPATCH_NUMERIC(a.dtype(), "affine", [&]<typename T>() {
    cpu_map<T, T>(
        out, [s = T(scale), t = T(shift)](T x) { return T(s * x + t); }, a);
  });
}

const bool registered = [] {
  const char* doc = "broadcasting loop over any dtype; flat vectorised loop when contiguous";
  register_kernel("add", DeviceType::cpu, "reference", 0, add_kernel, {}, doc);
  register_kernel("sub", DeviceType::cpu, "reference", 0, sub_kernel, {}, doc);
  register_kernel("mul", DeviceType::cpu, "reference", 0, mul_kernel, {}, doc);
  register_kernel("div", DeviceType::cpu, "reference", 0, div_kernel, {}, doc);
  register_kernel("affine", DeviceType::cpu, "reference", 0, affine_kernel, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
