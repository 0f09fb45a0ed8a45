// CUDA kernel of remove_small_boxes: one thread per box writes a keep flag (box::width / height
// as on the CPU), then masked_select over arange(N) compacts the indices in increasing order (one
// host synchronisation there, for the output's length).
#include "ops/common/box_checks.h"
#include "ops/common/box_cuda.cuh"
#include "ops/common/box_geometry.h"
#include "ops/factory/factory.h"
#include "ops/index/index.h"

namespace osprey::ops {
namespace {

template <typename T>
struct BigEnoughOp {
  T min_size, offset;
  __device__ void operator()(int64_t i, uint8_t* keep, const T* boxes) const {
    const T* b = boxes + 4 * i;
    keep[i] = box::width(b, offset) >= min_size && box::height(b, offset) >= min_size;
  }
};

void remove_small_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor boxes = ctx.input(0).contiguous();
  const int64_t n = boxes.size(0);
  Tensor flags = Tensor::empty({n}, DType::boolean, boxes.device());
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "remove_small_boxes", [&]<typename T>() {
    BigEnoughOp<T> op{static_cast<T>(ctx.attrs().get_float("min_size")),
                      static_cast<T>(box_offset(ctx.attrs()))};
    launch_per_item<BigEnoughOp<T>, uint8_t, T>(n, op, flags, boxes);
  });
  Tensor keep = masked_select(arange(static_cast<double>(n), DType::i64, boxes.device()), flags);
  ctx.output(0, keep.shape(), DType::i64).copy_(keep);
}

const bool registered = [] {
  register_kernel("remove_small_boxes", DeviceType::cuda, "native", 0, remove_small_kernel,
                  inputs_are_float, "thread per box writes a flag, then masked_select; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
