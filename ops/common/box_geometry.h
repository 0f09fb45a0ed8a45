// Box arithmetic shared by every detection op (box_iou, nms, the target ops, RoI ops) and by the
// data pipeline (SNIPER chips), so that one pixel convention holds everywhere.
//
// Boxes are (x1, y1, x2, y2) in image pixels. `offset` selects the convention:
//   offset = 0  continuous coordinates (torchvision, Detectron2): width = x2 − x1; the default.
//   offset = 1  inclusive integer pixels (py-faster-rcnn, Deformable-ConvNets, SNIPER): width =
//               x2 − x1 + 1, and a box clipped to an image of width W ends at W − 1.
// Ops expose it as the attribute `legacy_plus_one` (bool, default false). Encode/decode follow
// torchvision's BoxCoder for offset 0 and Deformable-ConvNets' nonlinear_transform/pred for
// offset 1 (centre x1 + (w − 1)/2); one formula covers both. Usable in CUDA kernels (f32/f64).
#pragma once

#include <cmath>

#include "framework/core/macros.h"

namespace osprey::ops::box {

template <typename T>
OSPREY_INLINE T min_of(T a, T b) {
  return a < b ? a : b;
}
template <typename T>
OSPREY_INLINE T max_of(T a, T b) {
  return a < b ? b : a;
}
template <typename T>
OSPREY_INLINE T clamp_to(T v, T lo, T hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

template <typename T>
OSPREY_INLINE T width(const T* b, T offset) {
  return b[2] - b[0] + offset;
}
template <typename T>
OSPREY_INLINE T height(const T* b, T offset) {
  return b[3] - b[1] + offset;
}
template <typename T>
OSPREY_INLINE T area(const T* b, T offset) {
  return width(b, offset) * height(b, offset);
}

// Area of the overlap of a and b (0 when they do not overlap).
template <typename T>
OSPREY_INLINE T intersection(const T* a, const T* b, T offset) {
  const T w = min_of(a[2], b[2]) - max_of(a[0], b[0]) + offset;
  const T h = min_of(a[3], b[3]) - max_of(a[1], b[1]) + offset;
  return w > T(0) && h > T(0) ? w * h : T(0);
}

// Intersection over union; 0 when the union is empty (two degenerate boxes), never NaN.
template <typename T>
OSPREY_INLINE T iou(const T* a, const T* b, T offset) {
  const T inter = intersection(a, b, offset);
  const T uni = area(a, offset) + area(b, offset) - inter;
  return uni > T(0) ? inter / uni : T(0);
}

// Intersection over the area of the FIRST box: how much of `a` lies inside `b`. SNIPER's chip
// containment test (a box is in a chip iff iof == 1) and OpenImages' group-of ignores use it.
template <typename T>
OSPREY_INLINE T iof(const T* a, const T* b, T offset) {
  const T area_a = area(a, offset);
  return area_a > T(0) ? intersection(a, b, offset) / area_a : T(0);
}

// Regression weights (wx, wy, ww, wh), e.g. (10, 10, 5, 5) for Faster R-CNN's RCNN head, (1, 1, 1,
// 1) for its RPN; `clip` bounds dw and dh before exp() in decode (torchvision: log(1000 / 16)).
template <typename T>
struct DeltaWeights {
  T wx = 1, wy = 1, ww = 1, wh = 1;
  T clip = T(4.135166556742356);  // log(1000 / 16)
};

// Deltas (dx, dy, dw, dh) that move `reference` onto `target`.
template <typename T>
OSPREY_INLINE void encode(const T* reference, const T* target, const DeltaWeights<T>& w, T offset,
                          T* delta) {
  const T rw = width(reference, offset), rh = height(reference, offset);
  const T rx = reference[0] + T(0.5) * (rw - offset), ry = reference[1] + T(0.5) * (rh - offset);
  const T tw = width(target, offset), th = height(target, offset);
  const T tx = target[0] + T(0.5) * (tw - offset), ty = target[1] + T(0.5) * (th - offset);
  delta[0] = w.wx * (tx - rx) / rw;
  delta[1] = w.wy * (ty - ry) / rh;
  delta[2] = w.ww * std::log(tw / rw);
  delta[3] = w.wh * std::log(th / rh);
}

// The box `delta` moves `reference` onto (the inverse of encode).
template <typename T>
OSPREY_INLINE void decode(const T* reference, const T* delta, const DeltaWeights<T>& w, T offset,
                          T* out) {
  const T rw = width(reference, offset), rh = height(reference, offset);
  const T rx = reference[0] + T(0.5) * (rw - offset), ry = reference[1] + T(0.5) * (rh - offset);
  const T cx = delta[0] / w.wx * rw + rx, cy = delta[1] / w.wy * rh + ry;
  const T pw = std::exp(min_of(delta[2] / w.ww, w.clip)) * rw;
  const T ph = std::exp(min_of(delta[3] / w.wh, w.clip)) * rh;
  out[0] = cx - T(0.5) * (pw - offset);
  out[1] = cy - T(0.5) * (ph - offset);
  out[2] = cx + T(0.5) * (pw - offset);
  out[3] = cy + T(0.5) * (ph - offset);
}

// Clip into an image of `image_width` × `image_height` pixels: [0, W] (offset 0) or [0, W − 1].
template <typename T>
OSPREY_INLINE void clip(T* b, T image_width, T image_height, T offset) {
  const T max_x = image_width - offset, max_y = image_height - offset;
  b[0] = clamp_to(b[0], T(0), max_x);
  b[1] = clamp_to(b[1], T(0), max_y);
  b[2] = clamp_to(b[2], T(0), max_x);
  b[3] = clamp_to(b[3], T(0), max_y);
}

}  // namespace osprey::ops::box
