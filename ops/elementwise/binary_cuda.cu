// CUDA kernels of add, sub, mul, div and affine: one broadcasting element-wise loop (cuda_map)
// per op and dtype — 16-byte vector loads and stores when operands are contiguous, unbroadcast and
// aligned (bandwidth-bound: this is the path that matters), strided otherwise. f16/bf16 compute in
// float; integers in their own type, like the CPU reference.
#include "ops/common/cuda_loops.cuh"
#include "ops/elementwise/elementwise_functors.h"

namespace osprey::ops {
namespace {

template <typename T>
struct AffineFn {
  compute_t<T> scale, shift;
  OSPREY_INLINE T operator()(T x) const { return T(scale * compute_t<T>(x) + shift); }
};

// Runs Fn<T>{args...} (args converted to the compute type) over the broadcast of the two inputs.
template <template <typename> class Fn, typename... Args>
void binary_kernel(KernelContext& ctx, Args... args) {
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const char* name = ctx.op().schema.name.c_str();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor& out = ctx.output(0, shape, a.dtype());
  OSPREY_DISPATCH_ALL(a.dtype(), name, [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(a.dtype(), name);
    } else {
      cuda_map<T, T, T>(out, Fn<T>{static_cast<compute_t<T>>(args)...}, a, b);
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
  check_cuda_operands(ctx);
  const Tensor& a = ctx.input(0);
  const Tensor& out = ctx.output(0, a.shape(), a.dtype());
  double scale = ctx.attrs().get_float("scale"), shift = ctx.attrs().get_float("shift");
  OSPREY_DISPATCH_ALL(a.dtype(), "affine", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_unsupported_dtype(a.dtype(), "affine");
    } else {
      using C = compute_t<T>;
      cuda_map<T, T>(out, AffineFn<T>{static_cast<C>(scale), static_cast<C>(shift)}, a);
    }
  });
}

const bool registered = [] {
  const char* doc = "broadcasting element-wise loop; 16-byte vectors when contiguous";
  register_kernel("add", DeviceType::cuda, "native", 0, add_kernel, {}, doc);
  register_kernel("sub", DeviceType::cuda, "native", 0, sub_kernel, {}, doc);
  register_kernel("mul", DeviceType::cuda, "native", 0, mul_kernel, {}, doc);
  register_kernel("div", DeviceType::cuda, "native", 0, div_kernel, {}, doc);
  register_kernel("affine", DeviceType::cuda, "native", 0, affine_kernel, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
