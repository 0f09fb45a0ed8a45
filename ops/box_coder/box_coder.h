// The box coder of Faster R-CNN (torchvision's BoxCoder, Deformable-ConvNets' bbox_transform).
//
//   box_encode(reference_boxes [N, 4], boxes [N, 4]; weights=[1, 1, 1, 1], legacy_plus_one)
//       -> deltas [N, 4]: (dx, dy, dw, dh) that move reference_boxes[i] (anchor or proposal)
//       onto boxes[i] (its ground truth):
//         dx = wx (cx - rcx) / rw, dy = wy (cy - rcy) / rh, dw = ww log(w / rw), dh = wh log(h /
//         rh)
//   box_decode(reference_boxes [N, 4], deltas [N, 4K]; weights, clip=log(1000/16),
//              legacy_plus_one) -> boxes [N, 4K]: the inverse, for each of the K (class) groups
//       of 4 deltas; dw / ww and dh / wh are clamped to <= clip before exp().
//
// Widths and centres follow ops/common/box_geometry.h: width = x2 - x1 + o, centre = x1 +
// (width - o) / 2 with o = 1 for legacy_plus_one (py-faster-rcnn / SNIPER), else 0. Weights are
// (wx, wy, ww, wh), e.g. (10, 10, 5, 5) for the R-CNN head, (1, 1, 1, 1) for the RPN; all > 0.
// Reference boxes need x2 >= x1, y2 >= y1, no NaN (a zero-width reference gives inf / NaN
// deltas, as in torchvision); deltas must not be NaN.
//
// Gradients: box_encode is not differentiable. box_decode is differentiable in `deltas` (not in
// reference_boxes), for losses on decoded boxes: with g the output gradient of one box and
// pw = exp(min(dw / ww, clip)) rw,
//   d dx = (g_x1 + g_x2) rw / wx,  d dy = (g_y1 + g_y2) rh / wy,
//   d dw = (g_x2 - g_x1) pw / (2 ww) when dw / ww <= clip (else 0), d dh likewise.
#pragma once

#include <array>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct BoxCoderOptions {
  std::array<double, 4> weights{1, 1, 1, 1};
  double clip = 4.135166556742356;  // log(1000 / 16)
  bool legacy_plus_one = false;
};

Tensor box_encode(const Tensor& reference_boxes, const Tensor& boxes,
                  const BoxCoderOptions& options = {});
Tensor box_decode(const Tensor& reference_boxes, const Tensor& deltas,
                  const BoxCoderOptions& options = {});

}  // namespace osprey::ops
