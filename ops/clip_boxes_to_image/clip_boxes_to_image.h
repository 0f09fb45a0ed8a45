// Clipping boxes into the image (torchvision.ops.clip_boxes_to_image).
//
//   clip_boxes_to_image(boxes [N, 4]; size=[height, width], legacy_plus_one=false) -> [N, 4]
//       x coordinates clamped to [0, width - o], y to [0, height - o]; o = 1 with
//       legacy_plus_one (py-faster-rcnn / SNIPER: the last pixel is W - 1), else 0.
// Boxes need x2 >= x1, y2 >= y1 and no NaN; size is two positive integers (torchvision's order).
// Not differentiable (the output is marked so).
#pragma once

#include <cstdint>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor clip_boxes_to_image(const Tensor& boxes, int64_t height, int64_t width,
                           bool legacy_plus_one = false);

}  // namespace osprey::ops
