// NMS within groups (torchvision.ops.batched_nms semantics).
//
//   batched_nms(boxes [N, 4], scores [N], idxs i64 [N]; iou_threshold, legacy_plus_one=false)
//       -> keep (i64 [K])
//
// `idxs` names each box's group (class, image, or both combined): boxes of different groups
// never suppress each other. Within a group it is nms (ops/nms/nms.h): greedy by decreasing
// score, suppress when IoU > iou_threshold. `keep` is sorted by decreasing score over all groups
// (ties: lower index first), as torchvision returns it. Implemented with per-group comparisons
// rather than torchvision's coordinate offsets, so large coordinates lose no precision.
// Not differentiable. Zero boxes give an empty `keep`.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& idxs,
                   double iou_threshold, bool legacy_plus_one = false);

}  // namespace osprey::ops
