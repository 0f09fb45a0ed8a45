// cpu/reference kernels of cat and stack: each input is copied into its slot of the output with
// the strided converting copy (flat and vectorised when both sides are contiguous). Any dtype.
// The slots are views made here, not through the dispatcher, so the call's kernel key stays this
// kernel's.
#include "ops/cat/cat.h"
#include "ops/common/op_helpers.h"
#include "ops/copy/copy.h"

namespace osprey::ops {
namespace {

// out[..., start : start + length, ...] along `dim`, keeping the dim (length 1 and drop_dim
// removes it, as select does).
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

void cat_kernel(KernelContext& ctx) {
  int64_t dim = ctx.attrs().get_int("dim");
  Shape shape = cat_shape(ctx.inputs(), dim);
  const Tensor& out = ctx.output(0, shape, ctx.input(0).dtype());
  int64_t offset = 0;
  for (const Tensor& t : ctx.inputs()) {
    if (cat_skips(t)) continue;
    const int64_t length = t.size(dim);
    if (t.numel() > 0) cpu_convert_copy(slot(out, dim, offset, length, false), t);
    offset += length;
  }
}

void stack_kernel(KernelContext& ctx) {
  int64_t dim = ctx.attrs().get_int("dim");
  Shape shape = stack_shape(ctx.inputs(), dim);
  const Tensor& out = ctx.output(0, shape, ctx.input(0).dtype());
  for (int64_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(static_cast<int>(i));
    if (t.numel() > 0) cpu_convert_copy(slot(out, dim, i, 1, true), t);
  }
}

const bool registered = [] {
  auto all = [](const KernelContext&) { return true; };
  const char* doc = "strided copy of each input into its slot of the output; any dtype";
  register_kernel("cat", DeviceType::cpu, "reference", 0, cat_kernel, all, doc);
  register_kernel("stack", DeviceType::cpu, "reference", 0, stack_kernel, all, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
