// Host-side attribute reading of rpn_proposals shared by both kernels.
#pragma once

#include "framework/dispatch/attributes.h"
#include "ops/rpn_proposals/rpn_proposals_math.h"

namespace osprey::ops::rpn_proposal_math {

template <typename T>
Params<T> params(const dispatch::Attrs& a) {
  const double lo = a.get_float("valid_range_lo"), hi = a.get_float("valid_range_hi");
  return {T(a.get_float("min_size")), T(lo * lo), hi > 0 ? T(hi * hi) : T(0),
          a.get_bool("legacy_plus_one") ? T(1) : T(0)};
}

}  // namespace osprey::ops::rpn_proposal_math
