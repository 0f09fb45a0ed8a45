// CUDA kernels of cat and stack: each input is copied into its slot of the output (a strided view
// made here, not through the dispatcher) by the element-wise converting copy. Any dtype. One
// launch per input: cat of many small tensors is launch-bound, which a single fused kernel over
// a pointer table would fix if it ever shows in a profile.
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {
namespace {

// out[..., start : start + length, ...] along dim (drop_dim: length 1, the dim removed).
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

// Legacy PyTorch rule kept by the op: 1-d empty tensors are skipped.
bool skipped(const Tensor& t) {
  return t.dim() == 1 && t.size(0) == 0;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  if (src.numel() > 0) dispatch::call_out("copy", dst, {src});
}

void cat_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;  // the slot copies are part of this kernel, not of the graph
  const Tensor* first = nullptr;
  for (const auto& t : ctx.inputs()) {
    if (!skipped(t)) {
      first = &t;
      break;
    }
  }
  if (!first) {
    ctx.output(0, {0}, ctx.input(0).dtype());
    return;
  }
  int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), first->dim());
  Shape shape = first->shape();
  shape[dim] = 0;
  for (const auto& t : ctx.inputs()) {
    if (!skipped(t)) shape[dim] += t.size(dim);
  }
  const Tensor& out = ctx.output(0, shape, first->dtype());
  int64_t offset = 0;
  for (const auto& t : ctx.inputs()) {
    if (skipped(t)) continue;
    copy_into(slot(out, dim, offset, t.size(dim), false), t);
    offset += t.size(dim);
  }
}

void stack_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& first = ctx.input(0);
  int64_t dim = wrap_dim(ctx.attrs().get_int("dim"), first.dim() + 1);
  Shape shape = first.shape();
  shape.insert(shape.begin() + dim, ctx.num_inputs());
  const Tensor& out = ctx.output(0, shape, first.dtype());
  for (int i = 0; i < ctx.num_inputs(); ++i) copy_into(slot(out, dim, i, 1, true), ctx.input(i));
}

const bool registered = [] {
  const char* doc = "element-wise copy of each input into its slot of the output; any dtype";
  register_kernel("cat", DeviceType::cuda, "native", 0, cat_kernel, {}, doc);
  register_kernel("stack", DeviceType::cuda, "native", 0, stack_kernel, {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
