// View ops: outputs share the input's storage; only shape, strides and offset change.
//
//   view(input; shape)        same elements in a new shape; needs compatible strides (-1 infers)
//   reshape(input; shape)     a view when the strides allow it, otherwise a contiguous copy
//   permute(input; dims)      reorders dims; grad = permute(grad, inverse(dims))
//   slice(input; dim, start, end, step)  Python-style bounds (negative counts from the end,
//                             clamped); grad = zeros(input) with the slice set to grad
//   expand(input; shape)      size-1 dims repeat with stride 0 (-1 keeps a size);
//                             grad = sum of grad over the expanded dims
// Views run on every device with the same metadata-only kernel.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

// Strides for viewing (shape, strides) as `new_shape` without copying; false when impossible.
bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                  Shape& new_strides);
// Resolves one -1 entry of `shape` for `numel` elements; errors name `op`.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op);

}  // namespace osprey::ops
