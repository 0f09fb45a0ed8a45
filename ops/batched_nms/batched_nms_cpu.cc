// CPU kernels of batched_nms: nms's two cores (ops/nms/nms_cpu.h) with a group test.
//   reference: the O(N^2) greedy loop, pairs of different groups skipped. f32/f64 boxes.
//   bitmask: the parallel IoU bitmask (a bit only for pairs in the same group), then the scan.
#include "ops/common/box_checks.h"
#include "ops/nms/nms_cpu.h"

namespace osprey::ops {
namespace {

template <bool Bitmask>
void batched_nms_kernel(KernelContext& ctx) {
  const Tensor boxes = ctx.input(0).contiguous();
  const Tensor scores = ctx.input(1).contiguous();
  const Tensor idxs = ctx.input(2).contiguous();
  const int64_t n = boxes.size(0);
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "batched_nms", [&]<typename T>() {
    const T threshold = static_cast<T>(ctx.attrs().get_float("iou_threshold"));
    const T offset = static_cast<T>(box_offset(ctx.attrs()));
    const T* b = boxes.data<T>();
    const T* s = scores.data<T>();
    const int64_t* g = idxs.data<int64_t>();
    std::vector<int64_t> keep = Bitmask ? nms_cpu::greedy_bitmask(b, s, g, n, threshold, offset)
                                        : nms_cpu::greedy_reference(b, s, g, n, threshold, offset);
    const int64_t k = static_cast<int64_t>(keep.size());
    ctx.output(0, {k}, DType::i64).copy_(Tensor::from_vector<int64_t>(keep, {k}));
  });
}

bool float_boxes(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("batched_nms", DeviceType::cpu, "reference", 0, batched_nms_kernel<false>,
                  float_boxes, "O(N^2) greedy loop skipping pairs of different groups; f32/f64");
  register_kernel("batched_nms", DeviceType::cpu, "bitmask", 10, batched_nms_kernel<true>,
                  float_boxes, "same-group IoU bitmask rows in parallel (OpenMP), then a scan");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
