// CUDA kernel of batched_nms: nms's device bitmask algorithm (ops/nms/nms_cuda.cu) with the
// group test in the mask kernel (a bit only for boxes of the same group), so the result is the
// CPU reference's exactly and no coordinate offsets are needed. Box and score values are checked
// on the device by nms_cuda_keep (the validate skips them for CUDA inputs).
#include "ops/common/box_checks.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/nms/nms_cuda.h"

namespace osprey::ops {
namespace {

void batched_nms_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  if (ctx.input(0).size(0) == 0) {
    ctx.output(0, {0}, DType::i64);
    return;
  }
  Tensor keep = nms_cuda_keep(ctx, ctx.input(2));
  ctx.output(0, keep.shape(), DType::i64).copy_(keep);
}

bool batched_nms_supports(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return (d == DType::f32 || d == DType::f64) && ctx.input(0).size(0) <= kNmsCudaMaxBoxes;
}

const bool registered = [] {
  register_kernel("batched_nms", DeviceType::cuda, "bitmask", 0, batched_nms_kernel,
                  batched_nms_supports,
                  "same-group IoU bitmask blocks, then a one-block scan on the device; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
