// The per-element loss and derivative of smooth_l1_loss (formulas in smooth_l1_loss.h), shared
// by the CPU reference and the CUDA kernels so that both evaluate the same expression. Arithmetic
// in double whatever the storage dtype.
#pragma once

#include "framework/core/macros.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops::smooth_l1 {

// loss_i = w · huber(x − t).
struct Loss {
  double beta;
  template <typename T>
  OSPREY_INLINE T operator()(T x, T t, T w) const {
    const double d = static_cast<double>(x) - static_cast<double>(t);
    const double a = d < 0 ? -d : d;
    const double l = a < beta ? 0.5 * d * d / beta : a - 0.5 * beta;
    return static_cast<T>(static_cast<double>(w) * l);
  }
};

// grad_input_i = scale · g · w · huber'(x − t).
struct Grad {
  double beta;
  double scale;  // 1, or 1 / numel for "mean"
  template <typename T>
  OSPREY_INLINE T operator()(T g, T x, T t, T w) const {
    const double d = static_cast<double>(x) - static_cast<double>(t);
    const double a = d < 0 ? -d : d;
    const double slope = a < beta ? d / beta : (d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0));
    return static_cast<T>(scale * static_cast<double>(g) * static_cast<double>(w) * slope);
  }
};

// The functors of a call, from its attributes (host side; scale as in Grad).
inline Loss loss_of(const dispatch::Attrs& attrs) {
  return {attrs.get_float("beta")};
}
inline Grad grad_of(const dispatch::Attrs& attrs, double scale) {
  return {attrs.get_float("beta"), scale};
}

}  // namespace osprey::ops::smooth_l1
