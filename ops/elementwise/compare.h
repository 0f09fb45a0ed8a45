// Element-wise comparisons with broadcasting. The result is a bool tensor; none is differentiable.
// Inputs share a dtype at the op boundary (any dtype, bool included); the C++ functions promote
// mixed dtypes first. f16/bf16 compare in float; NaN compares unequal to everything (ne is true).
//
//   eq(input, other)  input == other        ne(input, other)  input != other
//   lt(input, other)  input <  other        le(input, other)  input <= other
//   gt(input, other)  input >  other        ge(input, other)  input >= other
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor eq(const Tensor& input, const Tensor& other);
Tensor ne(const Tensor& input, const Tensor& other);
Tensor lt(const Tensor& input, const Tensor& other);
Tensor le(const Tensor& input, const Tensor& other);
Tensor gt(const Tensor& input, const Tensor& other);
Tensor ge(const Tensor& input, const Tensor& other);

}  // namespace osprey::ops
