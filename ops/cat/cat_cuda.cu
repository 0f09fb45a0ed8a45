// CUDA kernels of cat and stack: each input is copied into its slot of the output (a strided view
// of the output made here, not through the dispatcher) with cuda_map, which streams 16-byte
// vectors when both sides are contiguous and aligned and walks strides otherwise. One launch per
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

// out[..., start : start + length, ...] along `dim`; drop_dim removes the dim (length 1), as
// select does.
Tensor slot(const Tensor& out, int64_t dim, int64_t start, int64_t length, bool drop_dim) {
  Shape shape = out.shape(), strides = out.strides();
  int64_t offset = out.offset() + start * strides[dim];
  shape[dim] = length;
  if (drop_dim) {
    shape.erase(shape.begin() + dim);
    strides.erase(strides.begin() + dim);
  }
  return Tensor::from_storage(out.storage(), shape, strides, offset, out.dtype());
}

void copy_into(const Tensor& dst, const Tensor& src) {
  if (src.numel() == 0) return;
  OSPREY_DISPATCH_ALL(src.dtype(), "cat",
                      [&]<typename T>() { cuda_map<T, T>(dst, IdentityFn<T>{}, src); });
}

void cat_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  int64_t dim = ctx.attrs().get_int("dim");
  Shape shape = cat_shape(ctx.inputs(), dim);
  const Tensor& out = ctx.output(0, shape, ctx.input(0).dtype());
  int64_t offset = 0;
  for (const Tensor& t : ctx.inputs()) {
    if (cat_skips(t)) continue;
    const int64_t length = t.size(dim);
    copy_into(slot(out, dim, offset, length, false), t);
    offset += length;
  }
}

void stack_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  int64_t dim = ctx.attrs().get_int("dim");
  Shape shape = stack_shape(ctx.inputs(), dim);
  const Tensor& out = ctx.output(0, shape, ctx.input(0).dtype());
  for (int64_t i = 0; i < ctx.num_inputs(); ++i) {
    copy_into(slot(out, dim, i, 1, true), ctx.input(static_cast<int>(i)));
  }
}

const bool registered = [] {
  const char* doc = "cuda_map copy of each input into its slot (16-byte vectors when contiguous)";
  register_kernel("cat", DeviceType::cuda, "native", 0, cat_kernel, {}, doc);
  register_kernel("stack", DeviceType::cuda, "native", 0, stack_kernel, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
