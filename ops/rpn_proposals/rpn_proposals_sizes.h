// Host-side helpers of rpn_proposals shared by its kernels: attribute reading, the NaN and value
// errors.
#pragma once

#include <string>

#include "framework/core/error.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"
#include "ops/rpn_proposals/rpn_proposals_math.h"

namespace osprey::ops::rpn_proposal_math {

template <typename T>
Params<T> params(const dispatch::Attrs& a) {
  const double lo = a.get_float("valid_range_lo"), hi = a.get_float("valid_range_hi");
  return {T(a.get_float("min_size")), T(lo * lo), hi > 0 ? T(hi * hi) : T(0),
          a.get_bool("legacy_plus_one") ? T(1) : T(0)};
}

// Throws the argument error for nan_flags() bits; `where` locates the first NaN when known.
inline void check_nan_flags(unsigned flags, const std::string& where) {
  OSPREY_CHECK(!(flags & 1u), "rpn_proposals: argument 'scores' contains NaN{}", where);
  OSPREY_CHECK(!(flags & 2u), "rpn_proposals: argument 'deltas' contains NaN{}", where);
}

}  // namespace osprey::ops::rpn_proposal_math

namespace osprey::ops {

// The value checks of rpn_proposals' validate (anchors finite with x2 >= x1, y2 >= y1; image sizes
// finite > 0; valid ranges finite), on the host. The CUDA kernel runs them only when its device
// check flagged a bad value, so the error is the CPU call's (argument, row, values).
void rpn_proposals_check_values(const Tensor& anchors, const Tensor& image_sizes,
                                const Tensor& valid_ranges);

}  // namespace osprey::ops
