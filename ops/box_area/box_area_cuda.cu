// CUDA kernel of box_area: one thread per box, box::area as on the CPU.
#include "ops/common/box_checks.h"
#include "ops/common/box_cuda.cuh"
#include "ops/common/box_geometry.h"

namespace osprey::ops {
namespace {

template <typename T>
struct AreaOp {
  T offset;
  __device__ void operator()(int64_t i, T* out, const T* boxes) const {
    out[i] = box::area(boxes + 4 * i, offset);
  }
};

void box_area_kernel(KernelContext& ctx) {
  check_cuda_operands(ctx);
  const Tensor boxes = ctx.input(0).contiguous();
  const int64_t n = boxes.size(0);
  Tensor& out = ctx.output(0, {n}, boxes.dtype());
  Tensor result = contiguous_target(out);
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "box_area", [&]<typename T>() {
    launch_per_item<AreaOp<T>, T, T>(n, AreaOp<T>{static_cast<T>(box_offset(ctx.attrs()))}, result,
                                     boxes);
  });
  finish_output(out, result);
}

const bool registered = [] {
  register_kernel("box_area", DeviceType::cuda, "native", 0, box_area_kernel, inputs_are_float,
                  "thread per box; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
