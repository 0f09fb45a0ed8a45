// Case-list builders shared by the one-input element-wise ops (elementwise and activation
// folders): the same layouts for every op, with values drawn by an op-specific generator (positive
// for log, away from zero for abs, ...).
#pragma once

#include <functional>

#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

using ValueGen = std::function<Tensor(CaseRandom&, const Shape&, DType)>;

// Values uniform in [lo, hi).
ValueGen uniform_values(double lo = -1.0, double hi = 1.0);
// Values with |v| in [gap, hi): away from kinks at zero.
ValueGen away_from_zero_values(double gap = 0.1, double hi = 1.0);

// One input drawn by `gen`: a matrix, a 0-d scalar, an empty tensor, size-1 dims, a non-contiguous
// layout, a channels-last 4-d tensor and a large tensor (values only, no gradient check), all with
// `attrs`.
dispatch::CaseFn unary_value_cases(ValueGen gen, Attrs attrs = {});

}  // namespace osprey::ops
