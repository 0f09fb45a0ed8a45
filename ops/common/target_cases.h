// Box tensors for the case lists of the detection ops (deterministic, from CaseRandom).
#pragma once

#include <vector>

#include "framework/core/tensor.h"
#include "ops/common/case_helpers.h"

namespace osprey::ops::target_cases {

// Boxes of shape leading + (4): top-left corner uniform in [0, extent)², sides uniform in
// [min_side, max_side] (boxes may reach past `extent`).
Tensor random_boxes(CaseRandom& rng, const Shape& leading, double extent, double min_side,
                    double max_side, DType dtype);
// Square anchors of each size centred on every cell of a map × map grid of `stride` pixels,
// position-major ((map · map · sizes.size()), 4).
Tensor grid_anchors(int64_t map, double stride, const std::vector<double>& sizes, DType dtype);

}  // namespace osprey::ops::target_cases
