// The case lists of roi_align and roi_align_backward (roi_align_cases.cc).
#pragma once

#include <vector>

#include "framework/dispatch/op_def.h"

namespace osprey::ops {

std::vector<dispatch::OpCase> roi_align_cases(DType dtype, uint64_t seed);
std::vector<dispatch::OpCase> roi_align_backward_cases(DType dtype, uint64_t seed);

}  // namespace osprey::ops
