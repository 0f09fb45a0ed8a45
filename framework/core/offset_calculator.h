// Maps the linear index of an element of a (broadcast) output to element offsets in each operand,
// for strided kernels on the host and the device alike. Passed to CUDA kernels by value.
#pragma once

#include <cstdint>

#include "framework/core/macros.h"

namespace osprey {

inline constexpr int kMaxDims = 12;

template <int NumOperands>
struct OffsetCalculator {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[NumOperands][kMaxDims] = {};

  // Offsets (in elements, relative to each operand's first element) of linear index `linear`
  // of the row-major iteration over `sizes`.
  OSPREY_INLINE void offsets(int64_t linear, int64_t* out) const {
    for (int k = 0; k < NumOperands; ++k) out[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t index = linear % sizes[d];
      linear /= sizes[d];
      for (int k = 0; k < NumOperands; ++k) out[k] += index * strides[k][d];
    }
  }
};

}  // namespace osprey
