// CUDA kernel of batched_nms: nms's device bitmask algorithm (ops/nms/nms_cuda.cu) with the
// group test in the mask kernel (a bit only for boxes of the same group), so the result is the
// CPU reference's exactly and no coordinate offsets are needed.
#include "ops/common/box_checks.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/nms/nms_cuda.h"

namespace osprey::ops {
namespace {

void batched_nms_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor& boxes = ctx.input(0);
  if (boxes.size(0) == 0) {
    ctx.output(0, {0}, DType::i64);
    return;
  }
  Tensor keep = nms_cuda_keep(boxes, ctx.input(1), ctx.input(2),
                              ctx.attrs().get_float("iou_threshold"), box_offset(ctx.attrs()));
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
