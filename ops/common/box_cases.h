// Case-list building blocks of the box ops: deterministic random boxes and scores.
#pragma once

#include "ops/common/case_helpers.h"

namespace osprey::ops {

// n boxes [n, 4] with corners in [0, extent) and sides in [min_side, max_side); an integer grid
// when `integer` (to exercise the +1 convention and exact ties).
Tensor random_boxes(CaseRandom& rng, int64_t n, DType dtype, double extent = 100.0,
                    double min_side = 1.0, double max_side = 40.0, bool integer = false);
// n distinct scores in (0, 1), shuffled.
Tensor distinct_scores(CaseRandom& rng, int64_t n, DType dtype);

}  // namespace osprey::ops
