// The per-element formula of add_relu, shared by the CPU and CUDA kernels. C is the compute type.
#pragma once

#include "framework/core/macros.h"

namespace osprey::ops {

template <typename C>
struct AddReluFn {
  // NaN propagates (a NaN sum is not below 0), as relu's max does.
  OSPREY_INLINE C operator()(C a, C b) const {
    const C s = a + b;
    return s < C(0) ? C(0) : s;
  }
};

}  // namespace osprey::ops
