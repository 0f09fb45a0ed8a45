// The shape rule of pad shared by the op definitions and the kernels: per-dim left/right amounts,
// the padded shape, and the map from an output index to its source index.
#pragma once

#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops::pad_detail {

enum class PadMode { constant, reflect, replicate };

struct PadGeometry {
  PadMode mode = PadMode::constant;
  Shape input_shape;
  Shape output_shape;
  std::vector<int64_t> left;  // per dim of the input (0 for unpadded dims)
};

// Validates `pad` and `mode` against `input_shape`; errors name `op`, the amounts and the sizes.
PadGeometry pad_geometry(const Shape& input_shape, const std::vector<int64_t>& pad,
                         const std::string& mode, const char* op);

// The input index along a dim of `size` that output index `o` (already shifted by -left) reads,
// or -1 for a constant-mode element outside the input.
inline int64_t source_index(PadMode mode, int64_t j, int64_t size) {
  if (j >= 0 && j < size) return j;
  switch (mode) {
    case PadMode::constant:
      return -1;
    case PadMode::reflect:
      return j < 0 ? -j : 2 * (size - 1) - j;
    case PadMode::replicate:
      return j < 0 ? 0 : size - 1;
  }
  return -1;
}

}  // namespace osprey::ops::pad_detail
