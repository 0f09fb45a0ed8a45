// Dropping small boxes (torchvision.ops.remove_small_boxes).
//
//   remove_small_boxes(boxes [N, 4]; min_size, legacy_plus_one=false) -> keep (i64 [K])
//       indices, in increasing order, of the boxes with width >= min_size and height >=
//       min_size; width = x2 - x1 + o, o = 1 with legacy_plus_one (SNIPER drops boxes with a
//       side < 10 px in that convention), else 0.
// Boxes need x2 >= x1, y2 >= y1 and no NaN. Not differentiable.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor remove_small_boxes(const Tensor& boxes, double min_size, bool legacy_plus_one = false);

}  // namespace osprey::ops
