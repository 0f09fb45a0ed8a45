// The per-anchor arithmetic of rpn_proposals (steps 1-3 of rpn_proposals.h), shared verbatim by the
// CPU reference and the CUDA kernel.
#pragma once

#include "framework/core/macros.h"
#include "ops/common/box_geometry.h"

namespace osprey::ops::rpn_proposal_math {

template <typename T>
struct Params {
  T min_size, range_lo2, range_hi2, offset;  // range_hi2 <= 0: no range filter
};

// The parameters of image b: its own valid range (sqrt-area lo, hi; hi <= 0: no filter) when the
// call passes valid_ranges, else the attributes'.
template <typename T>
OSPREY_INLINE Params<T> for_image(Params<T> p, const T* valid_ranges, int64_t b) {
  if (valid_ranges != nullptr) {
    const T lo = valid_ranges[2 * b], hi = valid_ranges[2 * b + 1];
    p.range_lo2 = lo > T(0) ? lo * lo : T(0);
    p.range_hi2 = hi > T(0) ? hi * hi : T(0);
  }
  return p;
}

// NaN in a score (bit 1) or in a delta (bit 2): both kernels report them as argument errors.
// The flag word's bit for a bad anchor, image size or valid range (validate's host value checks,
// which the CUDA kernel runs on the device instead; nan_flags() uses bits 1 and 2).
inline constexpr unsigned kBadInputValues = 4u;

// False for NaN and ±inf (inf − inf is NaN), on host and device alike.
template <typename T>
OSPREY_INLINE bool finite(T v) {
  return v - v == T(0);
}

// Whether anchor `anchor` (when `anchor` is not null), image size `size` and valid range `range`
// (each when not null) fail validate's value checks: finite, x2 >= x1, y2 >= y1, sizes > 0.
template <typename T>
OSPREY_INLINE bool bad_input_values(const T* anchor, const T* size, const T* range) {
  bool bad = false;
  if (anchor != nullptr) {
    bad = !(finite(anchor[0]) && finite(anchor[1]) && finite(anchor[2]) && finite(anchor[3]) &&
            anchor[2] >= anchor[0] && anchor[3] >= anchor[1]);
  }
  if (size != nullptr)
    bad = bad || !(finite(size[0]) && size[0] > T(0) && finite(size[1]) && size[1] > T(0));
  if (range != nullptr) bad = bad || !(finite(range[0]) && finite(range[1]));
  return bad;
}

template <typename T>
OSPREY_INLINE unsigned nan_flags(T score, const T* delta) {
  const bool bad_delta =
      delta[0] != delta[0] || delta[1] != delta[1] || delta[2] != delta[2] || delta[3] != delta[3];
  return (score != score ? 1u : 0u) | (bad_delta ? 2u : 0u);
}

// Writes the decoded, clipped box; returns whether it survives the size filter and sets *ranked
// to the score it is ranked by.
template <typename T>
OSPREY_INLINE bool proposal(const T* anchor, const T* delta, T score, T height, T width,
                            const Params<T>& p, T* box, T* ranked) {
  box::decode(anchor, delta, box::DeltaWeights<T>{}, p.offset, box);
  box::clip(box, width, height, p.offset);
  const T w = box::width(box, p.offset), h = box::height(box, p.offset);
  const bool keep = w >= p.min_size && h >= p.min_size && box[2] >= box[0] && box[3] >= box[1];
  const T area = w * h;
  const bool in_range = p.range_hi2 <= T(0) || (area >= p.range_lo2 && area < p.range_hi2);
  *ranked = in_range ? score : T(-1);
  return keep;
}

}  // namespace osprey::ops::rpn_proposal_math
