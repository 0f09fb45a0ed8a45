// Copies and conversions. All differentiable except fill.
//
//   copy(src) -> out       writes src (broadcast to out's shape) into a given out; same dtype and
//                          device (Tensor::copy_ converts first). Used for every in-place copy.
//   fill() -> out          writes `value` into every element of a given out.
//   contiguous(input; channels_last)  a copy in row-major (or NHWC) layout; grad passes through
//   clone(input)           a contiguous copy; grad passes through
//   cast(input; dtype)     converts the element type; grad is cast back to input's dtype
//   to_device(input; device)  copies across devices; grad is copied back
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

// Converting strided copy between CPU tensors of any dtypes (dst shape = src shape or broadcast).
void cpu_convert_copy(const Tensor& dst, const Tensor& src);

}  // namespace osprey::ops
