// The per-element loss and derivative of sigmoid_focal_loss (formulas in sigmoid_focal_loss.h),
// shared by the CPU reference and the CUDA kernels so that both evaluate the same expression.
// Arithmetic in double whatever the storage dtype.
#pragma once

#include <cmath>

#include "framework/core/macros.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops::focal {

struct Terms {
  double p, ce, m, a_t;
};

OSPREY_INLINE Terms terms(double x, double t, double alpha) {
  const double ax = x < 0 ? -x : x;
  const double p = x >= 0 ? 1.0 / (1.0 + ::exp(-x)) : ::exp(x) / (1.0 + ::exp(x));
  const double ce = (x > 0 ? x : 0.0) - x * t + ::log1p(::exp(-ax));
  const double m = p + t - 2.0 * p * t;
  const double a_t = alpha >= 0 ? alpha * t + (1.0 - alpha) * (1.0 - t) : 1.0;
  return {p, ce, m, a_t};
}

OSPREY_INLINE double modulation(double m, double gamma) {
  return gamma == 0.0 ? 1.0 : ::pow(m, gamma);
}

struct Loss {
  double alpha, gamma;
  template <typename T>
  OSPREY_INLINE T operator()(T x, T t, T w) const {
    const Terms k = terms(static_cast<double>(x), static_cast<double>(t), alpha);
    return static_cast<T>(static_cast<double>(w) * k.a_t * k.ce * modulation(k.m, gamma));
  }
};

struct Grad {
  double alpha, gamma;
  double scale;  // 1, or 1 / numel for "mean"
  template <typename T>
  OSPREY_INLINE T operator()(T g, T x, T t, T w) const {
    const double td = static_cast<double>(t);
    const Terms k = terms(static_cast<double>(x), td, alpha);
    double d = (k.p - td) * modulation(k.m, gamma);
    if (gamma != 0.0 && k.m > 0.0) {
      d += k.ce * gamma * ::pow(k.m, gamma - 1.0) * k.p * (1.0 - k.p) * (1.0 - 2.0 * td);
    }
    return static_cast<T>(scale * static_cast<double>(g) * static_cast<double>(w) * k.a_t * d);
  }
};

// The functors of a call, from its attributes (host side; scale as in Grad).
inline Loss loss_of(const dispatch::Attrs& attrs) {
  return {attrs.get_float("alpha"), attrs.get_float("gamma")};
}
inline Grad grad_of(const dispatch::Attrs& attrs, double scale) {
  return {attrs.get_float("alpha"), attrs.get_float("gamma"), scale};
}

}  // namespace osprey::ops::focal
