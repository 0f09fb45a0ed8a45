// CPU kernels of nms.
//   reference: stable sort by score, then the O(N^2) greedy loop (nms_cpu.h). f32/f64.
//   bitmask: the same order, the IoU bitmask rows of 256-box chunks computed in parallel
//     (OpenMP, vectorised) for the boxes still alive, each chunk then scanned in order. Wins from
//     a few hundred boxes up (RPN's 6000-12000 proposals).
#include "ops/nms/nms_cpu.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

void write_keep(KernelContext& ctx, const std::vector<int64_t>& keep) {
  const int64_t k = static_cast<int64_t>(keep.size());
  ctx.output(0, {k}, DType::i64).copy_(Tensor::from_vector<int64_t>(keep, {k}));
}

template <bool Bitmask>
void nms_kernel(KernelContext& ctx) {
  const Tensor boxes = ctx.input(0).contiguous();
  const Tensor scores = ctx.input(1).contiguous();
  const int64_t n = boxes.size(0);
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "nms", [&]<typename T>() {
    const T threshold = static_cast<T>(ctx.attrs().get_float("iou_threshold"));
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    const T* b = boxes.data<T>();
    const T* s = scores.data<T>();
    write_keep(ctx, Bitmask ? nms_cpu::greedy_bitmask(b, s, nullptr, n, threshold, offset)
                            : nms_cpu::greedy_reference(b, s, nullptr, n, threshold, offset));
  });
}

const bool registered = [] {
  register_kernel("nms", DeviceType::cpu, "reference", 0, nms_kernel<false>, inputs_are_float,
                  "stable sort by score, O(N^2) greedy loop; f32/f64");
  register_kernel("nms", DeviceType::cpu, "bitmask", 10, nms_kernel<true>, inputs_are_float,
                  "IoU bitmask rows in parallel (OpenMP), then a sequential scan; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
