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
