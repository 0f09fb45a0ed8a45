// The per-element formulas of the activations and their backward ops, one copy for the CPU
// reference (activation_cpu.cc) and the CUDA kernels (activation_cuda.cu), so the two devices
// compute the same thing. C is the compute type (float for f16/bf16). The math functions are
// found through `using std::...`: on the host that picks the float overloads for float, and nvcc
// maps the same names to its device functions.
#pragma once

#include <cmath>

#include "framework/core/macros.h"

namespace osprey::ops {

// 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) below: neither form overflows on its side.
template <typename C>
OSPREY_INLINE C stable_sigmoid(C x) {
  using std::exp;
  if (x >= C(0)) return C(1) / (C(1) + exp(-x));
  C e = exp(x);
  return e / (C(1) + e);
}

template <typename C>
struct ReluFn {
  OSPREY_INLINE C operator()(C x) const { return x > C(0) ? x : C(0); }
};
template <typename C>
struct SigmoidFn {
  OSPREY_INLINE C operator()(C x) const { return stable_sigmoid(x); }
};
template <typename C>
struct TanhFn {
  OSPREY_INLINE C operator()(C x) const {
    using std::tanh;
    return tanh(x);
  }
};
template <typename C>
struct SoftplusFn {
  C beta, threshold;
  OSPREY_INLINE C operator()(C x) const {
    using std::exp;
    using std::log1p;
    C bx = beta * x;
    return bx > threshold ? x : log1p(exp(bx)) / beta;
  }
};
template <typename C>
struct ThresholdBackwardFn {
  C threshold;
  OSPREY_INLINE C operator()(C g, C x) const { return x > threshold ? g : C(0); }
};
template <typename C>
struct SigmoidBackwardFn {
  OSPREY_INLINE C operator()(C g, C y) const { return g * y * (C(1) - y); }
};
template <typename C>
struct TanhBackwardFn {
  OSPREY_INLINE C operator()(C g, C y) const { return g * (C(1) - y * y); }
};
template <typename C>
struct SoftplusBackwardFn {
  C beta, threshold;
  OSPREY_INLINE C operator()(C g, C x) const {
    C bx = beta * x;
    return bx > threshold ? g : g * stable_sigmoid(bx);
  }
};

}  // namespace osprey::ops
