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

#include <type_traits>

#include "framework/core/tensor.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {

// Converting strided copy between CPU tensors of any dtypes (dst shape = src shape or broadcast).
void cpu_convert_copy(const Tensor& dst, const Tensor& src);

// The outputs of copy, contiguous, clone and cast, allocated as every device's kernel does (copy
// writes into the caller's out= when there is one, else a tensor of src's shape and dtype).
const Tensor& copy_output(KernelContext& ctx);
const Tensor& contiguous_output(KernelContext& ctx);  // row-major, or NHWC for channels_last
const Tensor& clone_output(KernelContext& ctx);
const Tensor& cast_output(KernelContext& ctx);  // the dtype attribute

// fill's value (a double attribute) in the output's element type, as every device's fill kernel
// writes it: f16/bf16 round through float, other types convert like a C++ cast.
template <typename T>
T fill_value(double value) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(value));
  } else {
    return static_cast<T>(value);
  }
}

}  // namespace osprey::ops
