// CUDA kernel of anchors_inside: one thread per anchor writes an inside flag (the CPU test, in
// the anchors' dtype), then masked_select over arange(N) compacts the indices in increasing order.
#include "ops/common/box_cuda.cuh"
#include "ops/factory/factory.h"
#include "ops/index/index.h"

namespace osprey::ops {
namespace {

template <typename T>
struct InsideOp {
  T lo, max_x, max_y;
  __device__ void operator()(int64_t i, uint8_t* keep, const T* anchors) const {
    const T* b = anchors + 4 * i;
    keep[i] = b[0] >= lo && b[1] >= lo && b[2] < max_x && b[3] < max_y;
  }
};

void anchors_inside_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor anchors = ctx.input(0).contiguous();
  const int64_t n = anchors.size(0);
  const std::vector<int64_t> size = ctx.attrs().get_ints("image_size");
  const double border = ctx.attrs().get_float("allowed_border");
  Tensor flags = Tensor::empty({n}, DType::boolean, anchors.device());
  OSPREY_DISPATCH_FLOAT(anchors.dtype(), "anchors_inside", [&]<typename T>() {
    InsideOp<T> op{static_cast<T>(-border), static_cast<T>(static_cast<double>(size[1]) + border),
                   static_cast<T>(static_cast<double>(size[0]) + border)};
    launch_per_item<InsideOp<T>, uint8_t, T>(n, op, flags, anchors);
  });
  Tensor keep = masked_select(arange(static_cast<double>(n), DType::i64, anchors.device()), flags);
  ctx.output(0, keep.shape(), DType::i64).copy_(keep);
}

const bool registered = [] {
  register_kernel("anchors_inside", DeviceType::cuda, "native", 0, anchors_inside_kernel,
                  inputs_are_float, "thread per anchor writes a flag, then masked_select; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
