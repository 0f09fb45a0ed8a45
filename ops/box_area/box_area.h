// Box areas (torchvision.ops.box_area).
//
//   box_area(boxes [N, 4]; legacy_plus_one=false) -> [N]
//       (x2 - x1 + o) * (y2 - y1 + o), o = 1 with legacy_plus_one (py-faster-rcnn / SNIPER
//       pixels), else 0 (ops/common/box_geometry.h). Boxes need x2 >= x1, y2 >= y1, no NaN.
// Not differentiable (the output is marked so).
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor box_area(const Tensor& boxes, bool legacy_plus_one = false);

}  // namespace osprey::ops
