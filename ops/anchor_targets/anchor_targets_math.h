// The per-anchor arithmetic of anchor_targets (see anchor_targets.h), shared verbatim by the CPU
// reference and the CUDA kernel so both label every anchor the same way.
#pragma once

#include <cstdint>

#include "framework/core/macros.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops::anchor_target_math {

template <typename T>
struct Params {
  T positive_iou, negative_iou, ignore_iou, allowed_border, offset;
};

template <typename T>
OSPREY_INLINE bool inside(const T* a, T height, T width, T border) {
  return border < T(0) ||
         (a[0] >= -border && a[1] >= -border && a[2] < width + border && a[3] < height + border);
}

// Whether gt j takes part in labelling (the rest only cause ignores).
OSPREY_INLINE bool valid_gt(const bool* ignore, int64_t j) {
  return ignore == nullptr || !ignore[j];
}

// The label of an inside anchor before sampling, given each gt's largest IoU over the inside
// anchors (gt_best); *matched = the valid gt of largest IoU (first on ties), −1 when none.
template <typename T>
OSPREY_INLINE int64_t label_before_sampling(const T* anchor, const T* gts, const bool* ignore,
                                            int64_t gt_count, const T* gt_best, const Params<T>& p,
                                            int64_t* matched) {
  T best = T(0);
  int64_t arg = -1;
  bool best_of_a_gt = false, ignored = false;
  for (int64_t j = 0; j < gt_count; ++j) {
    const T iou = box::iou(anchor, gts + 4 * j, p.offset);
    if (!valid_gt(ignore, j)) {
      ignored = ignored || iou > p.ignore_iou;
      continue;
    }
    if (iou > best) {
      best = iou;
      arg = j;
    }
    best_of_a_gt = best_of_a_gt || (gt_best[j] > T(0) && iou == gt_best[j]);
  }
  *matched = arg;
  int64_t label = -1;
  if (best < p.negative_iou) label = 0;
  if (best_of_a_gt || best >= p.positive_iou) label = 1;
  if (ignored) label = -1;
  return label;
}

}  // namespace osprey::ops::anchor_target_math
