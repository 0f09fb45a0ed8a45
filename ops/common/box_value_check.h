// The value test of one box, shared by the host checks (box_checks.cc) and the CUDA kernels that
// check their inputs on the device (nms_cuda.cu), so both reject exactly the same boxes.
#pragma once

#include "framework/core/macros.h"

namespace osprey::ops {

// A box (x1, y1, x2, y2) is bad when a coordinate is NaN or x2 < x1 or y2 < y1. One comparison
// chain: a NaN makes a comparison false, and a NaN in a box is caught by the comparison that
// reads it.
template <typename T>
OSPREY_INLINE bool bad_box(const T* b) {
  return !(b[2] >= b[0] && b[3] >= b[1]);
}

}  // namespace osprey::ops
