// Anchors that lie inside the image up to an allowed border (py-faster-rcnn's inds_inside).
//
//   anchors_inside(anchors [N, 4]; image_size=[height, width], allowed_border=0) -> keep (i64 [K])
//       increasing indices of the anchors with x1 >= -border, y1 >= -border, x2 < width +
//       border and y2 < height + border. SNIPER: 512 x 512 chips, border 32, i.e. anchors within
//       [-32, 544). Anchors (any corners, no NaN) come from anchor_grid. Not differentiable.
#pragma once

#include <cstdint>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor anchors_inside(const Tensor& anchors, int64_t height, int64_t width,
                      double allowed_border = 0.0);

}  // namespace osprey::ops
