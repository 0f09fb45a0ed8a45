// Greedy non-maximum suppression (torchvision.ops.nms semantics).
//
//   nms(boxes [N, 4], scores [N]; iou_threshold, legacy_plus_one=false) -> keep (i64 [K])
//
// Boxes are (x1, y1, x2, y2) with x2 >= x1, y2 >= y1 (no NaN; scores no NaN). Boxes are visited
// in order of decreasing score; a visited box is kept unless an already kept box overlaps it with
// IoU > iou_threshold (strictly greater, as torchvision). `keep` lists the kept boxes' indices in
// the order they were kept, i.e. by decreasing score. Equal scores: the lower index comes first
// (a stable sort), so the result is deterministic and the same on every device.
// IoU follows ops/common/box_geometry.h: legacy_plus_one=true is the +1 pixel convention of
// py-faster-rcnn / SNIPER (width = x2 - x1 + 1); two degenerate boxes have IoU 0.
// Not differentiable (the output is indices). Zero boxes give an empty `keep`.
// CUDA (nms/cuda/bitmask): the bitmask algorithm on the device end to end; box and score values
// are checked there too, and the first bad row rides with the kept count in the op's one read-back
// (the output's length), so a GPU call makes one host synchronisation and reports the CPU errors.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold,
           bool legacy_plus_one = false);

}  // namespace osprey::ops
