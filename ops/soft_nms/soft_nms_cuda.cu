// CUDA kernel of soft_nms: the inputs are copied to the host, the CPU reference runs, and the
// results are copied back. Soft-NMS is serial by construction (each selection and each drop
// moves boxes for the next step, SNIPER's order depends on those moves) and runs once per image
// at inference on a few thousand boxes, so a device version would gain little; this keeps GPU
// pipelines working with the exact CPU result. Costs two copies and a synchronisation.
#include "ops/common/cuda_loops.cuh"
#include "ops/soft_nms/soft_nms.h"

namespace osprey::ops {
namespace {

void soft_nms_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Device device = ctx.input(0).device();
  std::vector<Tensor> host =
      dispatch::call("soft_nms", {ctx.input(0).cpu(), ctx.input(1).cpu()}, ctx.attrs());
  ctx.output(0, host[0].shape(), DType::i64).copy_(host[0].to(device));
  ctx.output(1, host[1].shape(), host[1].dtype()).copy_(host[1].to(device));
}

const bool registered = [] {
  register_kernel("soft_nms", DeviceType::cuda, "host", 0, soft_nms_kernel, inputs_are_float,
                  "copies to the host and runs the CPU reference (serial algorithm); f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
