// Element-wise arithmetic with NumPy broadcasting. Inputs of a binary op must share a dtype at the
// op boundary; the C++ functions below promote mixed dtypes first (promote_types).
//
//   add(input, other; alpha=1)  input + alpha*other   d/dinput = g, d/dother = alpha*g
//   sub(input, other; alpha=1)  input - alpha*other   d/dinput = g, d/dother = -alpha*g
//   mul(input, other)           input * other         d/dinput = g*other, d/dother = g*input
//   div(input, other)           input / other         d/dinput = g/other,
//                                                     d/dother = -g*input/other^2
//   affine(input; scale=1, shift=0)  scale*input + shift (scalar arithmetic without a tensor
//                               for the scalar)      d/dinput = scale*g
// Gradients of broadcast inputs are summed back to the input's shape.
//
// The rest of the family has its own headers (not included here, so that ops::exp, ops::sqrt, ...
// do not hide the <cmath> functions from unqualified calls in every file that needs add or mul):
// unary.h (exp, log, sqrt, abs, sign, pow, clamp), binary_math.h (maximum, minimum, pow_tensor),
// compare.h (eq, ne, lt, le, gt, ge), where.h.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor add(const Tensor& input, const Tensor& other, double alpha = 1.0);
Tensor sub(const Tensor& input, const Tensor& other, double alpha = 1.0);
Tensor mul(const Tensor& input, const Tensor& other);
Tensor div(const Tensor& input, const Tensor& other);
Tensor affine(const Tensor& input, double scale, double shift = 0.0);
Tensor neg(const Tensor& input);

// In-place forms (not differentiable; for optimisers and accumulation under NoGradGuard).
void add_(const Tensor& self, const Tensor& other, double alpha = 1.0);
void mul_(const Tensor& self, const Tensor& other);
void affine_(const Tensor& self, double scale, double shift = 0.0);

}  // namespace osprey::ops

namespace osprey {
inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return ops::add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return ops::sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return ops::mul(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return ops::div(a, b);
}
inline Tensor operator-(const Tensor& a) {
  return ops::affine(a, -1.0);
}
inline Tensor operator+(const Tensor& a, double s) {
  return ops::affine(a, 1.0, s);
}
inline Tensor operator+(double s, const Tensor& a) {
  return ops::affine(a, 1.0, s);
}
inline Tensor operator-(const Tensor& a, double s) {
  return ops::affine(a, 1.0, -s);
}
inline Tensor operator-(double s, const Tensor& a) {
  return ops::affine(a, -1.0, s);
}
inline Tensor operator*(const Tensor& a, double s) {
  return ops::affine(a, s);
}
inline Tensor operator*(double s, const Tensor& a) {
  return ops::affine(a, s);
}
inline Tensor operator/(const Tensor& a, double s) {
  return ops::affine(a, 1.0 / s);
}
}  // namespace osprey
