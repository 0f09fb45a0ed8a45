// CUDA kernels of cat and stack: each input is copied into its slot of the output (a strided view
// of the output, see cat_into_slots) with cuda_map, which streams 16-byte vectors when both sides
// are contiguous and aligned and walks strides otherwise. One launch per
// input: right for the usual handful of large inputs; many tiny inputs pay a launch each. Any
// dtype, like the CPU reference.
#include "ops/cat/cat.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

template <typename T>
struct IdentityFn {
  OSPREY_INLINE T operator()(T v) const { return v; }
};

void copy_into(const Tensor& dst, const Tensor& src) {
  OSPREY_DISPATCH_ALL(src.dtype(), "cat",
                      [&]<typename T>() { cuda_map<T, T>(dst, IdentityFn<T>{}, src); });
}

void cat_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  cat_into_slots(ctx, copy_into);
}

void stack_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  stack_into_slots(ctx, copy_into);
}

const bool registered = [] {
  const char* doc = "cuda_map copy of each input into its slot (16-byte vectors when contiguous)";
  register_kernel("cat", DeviceType::cuda, "native", 0, cat_kernel, {}, doc);
  register_kernel("stack", DeviceType::cuda, "native", 0, stack_kernel, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
