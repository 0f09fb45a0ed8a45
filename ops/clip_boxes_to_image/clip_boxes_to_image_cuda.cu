// CUDA kernel of clip_boxes_to_image: one thread per box, box::clip as on the CPU.
#include "ops/common/box_checks.h"
#include "ops/common/box_cuda.cuh"
#include "ops/common/box_geometry.h"

namespace osprey::ops {
namespace {

template <typename T>
struct ClipOp {
  T width, height, offset;
  __device__ void operator()(int64_t i, T* out, const T* boxes) const {
    for (int c = 0; c < 4; ++c) out[4 * i + c] = boxes[4 * i + c];
    box::clip(out + 4 * i, width, height, offset);
  }
};

void clip_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor boxes = ctx.input(0).contiguous();
  const std::vector<int64_t> size = ctx.attrs().get_ints("size");
  Tensor& out = ctx.output(0, boxes.shape(), boxes.dtype());
  Tensor result = contiguous_target(out);
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "clip_boxes_to_image", [&]<typename T>() {
    ClipOp<T> op{static_cast<T>(size[1]), static_cast<T>(size[0]),
                 static_cast<T>(box_offset(ctx.attrs()))};
    launch_per_item<ClipOp<T>, T, T>(boxes.size(0), op, result, boxes);
  });
  finish_output(out, result);
}

const bool registered = [] {
  register_kernel("clip_boxes_to_image", DeviceType::cuda, "native", 0, clip_kernel,
                  inputs_are_float, "thread per box; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
