// CPU kernel batched_nms/cpu/per_group: boxes split by group, nms's bitmask core (no group test)
// run on each group's boxes, and the kept boxes of all groups merged by (score descending, index
// ascending) — the reference's order. Work and mask memory grow with the sum of the squared group
// sizes instead of the square of N: it wins whenever there are several groups (per-class NMS
// over 80 classes, per-image NMS over a batch) and equals cpu/bitmask with one group.
#include <algorithm>

#include "ops/common/box_checks.h"
#include "ops/nms/nms_cpu.h"

namespace osprey::ops {
namespace {

template <typename T>
std::vector<int64_t> per_group_nms(const T* boxes, const T* scores, const int64_t* groups,
                                   int64_t n, T threshold, T offset) {
  std::vector<int64_t> by_group(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) by_group[i] = i;
  std::stable_sort(by_group.begin(), by_group.end(),
                   [groups](int64_t a, int64_t b) { return groups[a] < groups[b]; });
  std::vector<int64_t> keep;
  std::vector<T> group_boxes, group_scores;
  for (int64_t lo = 0; lo < n;) {
    int64_t hi = lo;
    while (hi < n && groups[by_group[hi]] == groups[by_group[lo]]) ++hi;
    group_boxes.clear();
    group_scores.clear();
    for (int64_t k = lo; k < hi; ++k) {  // members in increasing index: ties resolve the same
      const T* b = boxes + 4 * by_group[k];
      group_boxes.insert(group_boxes.end(), b, b + 4);
      group_scores.push_back(scores[by_group[k]]);
    }
    for (int64_t local : nms_cpu::greedy_bitmask(group_boxes.data(), group_scores.data(),
                                                 static_cast<const int64_t*>(nullptr), hi - lo,
                                                 threshold, offset)) {
      keep.push_back(by_group[lo + local]);
    }
    lo = hi;
  }
  std::sort(keep.begin(), keep.end(), [scores](int64_t a, int64_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  return keep;
}

void per_group_kernel(KernelContext& ctx) {
  const Tensor boxes = ctx.input(0).contiguous();
  const Tensor scores = ctx.input(1).contiguous();
  const Tensor idxs = ctx.input(2).contiguous();
  OSPREY_DISPATCH_FLOAT(boxes.dtype(), "batched_nms", [&]<typename T>() {
    std::vector<int64_t> keep =
        per_group_nms(boxes.data<T>(), scores.data<T>(), idxs.data<int64_t>(), boxes.size(0),
                      static_cast<T>(ctx.attrs().get_float("iou_threshold")),
                      static_cast<T>(box_offset(ctx.attrs())));
    const int64_t k = static_cast<int64_t>(keep.size());
    ctx.output(0, {k}, DType::i64).copy_(Tensor::from_vector<int64_t>(keep, {k}));
  });
}

bool float_boxes(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("batched_nms", DeviceType::cpu, "per_group", 20, per_group_kernel, float_boxes,
                  "nms's bitmask core per group, kept boxes merged by score; f32/f64");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
