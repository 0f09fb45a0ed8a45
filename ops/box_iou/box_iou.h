// Pairwise box overlaps (torchvision.ops.box_iou and its intersection-over-foreground sibling).
//
//   box_iou(boxes1 [N, 4], boxes2 [M, 4]; legacy_plus_one=false) -> [N, M]
//       out[i][j] = area(b1_i ∩ b2_j) / area(b1_i ∪ b2_j); 0 when the union is empty.
//   box_iof(boxes1 [N, 4], boxes2 [M, 4]; legacy_plus_one=false) -> [N, M]
//       out[i][j] = area(b1_i ∩ b2_j) / area(b1_i): how much of b1_i lies inside b2_j (SNIPER's
//       chip containment, OpenImages group-of ignores); 0 when b1_i has no area.
//
// Boxes are (x1, y1, x2, y2), x2 >= x1, y2 >= y1, no NaN; both inputs of one floating dtype. The
// math and the pixel convention are ops/common/box_geometry.h's (legacy_plus_one: width = x2 -
// x1 + 1, as py-faster-rcnn / SNIPER). Not differentiable (outputs are marked so).
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor box_iou(const Tensor& boxes1, const Tensor& boxes2, bool legacy_plus_one = false);
Tensor box_iof(const Tensor& boxes1, const Tensor& boxes2, bool legacy_plus_one = false);

}  // namespace osprey::ops
