// The attributes of a 2-d convolution, read once and shared by the op definitions and kernels.
#pragma once

#include <cstdint>

#include "framework/dispatch/attributes.h"

namespace osprey::ops {

struct ConvGeometry {
  int64_t stride[2];
  int64_t padding[2];
  int64_t dilation[2];
  int64_t groups;

  // Reads stride/padding/dilation (one int or two) and groups; errors name `op` and the attribute.
  static ConvGeometry from_attrs(const dispatch::Attrs& attrs, const char* op);
  // The output extent along dim d (0: height, 1: width) for an input extent and a kernel extent.
  int64_t output_size(int d, int64_t in, int64_t kernel) const {
    return (in + 2 * padding[d] - dilation[d] * (kernel - 1) - 1) / stride[d] + 1;
  }
};

}  // namespace osprey::ops
