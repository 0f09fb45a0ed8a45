// The per-candidate arithmetic of proposal_targets (see proposal_targets.h), shared verbatim by the
// CPU reference and the CUDA kernel.
#pragma once

#include <math.h>

#include <cstdint>

#include "framework/core/macros.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops::proposal_target_math {

enum GtMode : int { kReplaceLast = 0, kAppend = 1, kNone = 2 };

template <typename T>
struct Params {
  T fg_iou, bg_iou_lo, group_of_iof, offset;
  bool soft_sampling;
  T insert_lo2, insert_hi2;  // area bounds of inserted gts; insert_hi2 <= 0: no upper bound
};

// How many RoIs and inserted gts image b has as candidates.
struct Split {
  int64_t rois, gts;
};
OSPREY_INLINE Split split(int mode, int64_t roi_count, int64_t slots, int64_t labelling_gts) {
  if (mode == kNone) return {roi_count < slots ? roi_count : slots, 0};
  if (mode == kAppend) return {roi_count < slots ? roi_count : slots, labelling_gts};
  const int64_t n = labelling_gts < slots ? labelling_gts : slots;
  const int64_t keep = slots - n;
  return {roi_count < keep ? roi_count : keep, n};
}

OSPREY_INLINE bool is_group_of(const bool* group_of, int64_t j) {
  return group_of != nullptr && group_of[j];
}

// The parameters of image b: its own insert range (sqrt-area lo, hi; hi <= 0: no upper bound)
// when the call passes gt_insert_ranges, else the attributes'.
template <typename T>
OSPREY_INLINE Params<T> for_image(Params<T> p, const T* insert_ranges, int64_t b) {
  if (insert_ranges != nullptr) {
    const T lo = insert_ranges[2 * b], hi = insert_ranges[2 * b + 1];
    p.insert_lo2 = lo > T(0) ? lo * lo : T(0);
    p.insert_hi2 = hi > T(0) ? hi * hi : T(0);
  }
  return p;
}

// Whether gt j becomes a candidate (when the mode inserts gts): a labelling gt whose area is in
// [lo², hi²] (SNIPER inserts only the gts in the chip's valid range).
template <typename T>
OSPREY_INLINE bool inserted_gt(const T* gts, const bool* group_of, int64_t j, const Params<T>& p) {
  if (is_group_of(group_of, j)) return false;
  const T area = box::area(gts + 4 * j, p.offset);
  return area >= p.insert_lo2 && (p.insert_hi2 <= T(0) || area <= p.insert_hi2);
}

// The label of a candidate box; *matched = labelling gt of largest IoU (−1: none), *best = that
// IoU.
template <typename T>
OSPREY_INLINE int64_t label_of(const T* box, const T* gts, const int64_t* classes,
                               const bool* group_of, int64_t gt_count, const Params<T>& p,
                               int64_t* matched, T* best) {
  T m = T(0);
  int64_t arg = -1;
  bool ignored = false;
  for (int64_t j = 0; j < gt_count; ++j) {
    if (is_group_of(group_of, j)) {
      ignored = ignored || box::iof(box, gts + 4 * j, p.offset) > p.group_of_iof;
      continue;
    }
    const T iou = box::iou(box, gts + 4 * j, p.offset);
    if (iou > m) {
      m = iou;
      arg = j;
    }
  }
  *matched = arg;
  *best = m;
  int64_t label = m > p.fg_iou && arg >= 0 ? classes[arg] : (m >= p.bg_iou_lo ? 0 : -1);
  return ignored ? -1 : label;
}

template <typename T>
OSPREY_INLINE T label_weight(int64_t label, T best, bool soft_sampling) {
  if (label < 0) return T(0);
  if (label > 0 || !soft_sampling) return T(1);
  return T(0.25) + T(0.75) * T(exp(-50.0 * exp(-20.0 * static_cast<double>(best))));
}

}  // namespace osprey::ops::proposal_target_math
