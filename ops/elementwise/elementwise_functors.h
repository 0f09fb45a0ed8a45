// Per-element math of the binary element-wise ops, written once as OSPREY_INLINE functors that the
// CPU kernels (cpu_map) and the CUDA kernels (cuda_map) both run, so the two devices agree on the
// formulas, NaN handling and ties. Each Fn<T> takes and returns the stored type T and computes in
// compute_t<T> (float for f16/bf16).
#pragma once

#include "framework/core/macros.h"
#include "ops/common/compute_type.h"

namespace osprey::ops {

template <typename T>
struct PlainAddFn {
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = compute_t<T>;
    return T(C(x) + C(y));
  }
};

template <typename T>
struct AddFn {
  compute_t<T> alpha;
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = compute_t<T>;
    return T(C(x) + alpha * C(y));
  }
};

template <typename T>
struct SubFn {
  compute_t<T> alpha;
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = compute_t<T>;
    return T(C(x) - alpha * C(y));
  }
};

template <typename T>
struct MulFn {
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = compute_t<T>;
    return T(C(x) * C(y));
  }
};

template <typename T>
struct DivFn {
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = compute_t<T>;
    return T(C(x) / C(y));
  }
};

enum class Cmp { eq, ne, lt, le, gt, ge };

template <typename T, Cmp K>
struct CompareFn {
  OSPREY_INLINE bool operator()(T x, T y) const {
    using C = compute_t<T>;
    C a = C(x), b = C(y);
    switch (K) {
      case Cmp::eq:
        return a == b;
      case Cmp::ne:
        return a != b;
      case Cmp::lt:
        return a < b;
      case Cmp::le:
        return a <= b;
      case Cmp::gt:
        return a > b;
      default:
        return a >= b;
    }
  }
};

// maximum (Max) / minimum: NaN wins (either side), then x when it is the larger (smaller) or tied.
// NaN is tested as v != v, which needs no <cmath> on the device.
template <typename T, bool Max>
struct PickFn {
  OSPREY_INLINE T operator()(T x, T y) const {
    using C = compute_t<T>;
    C cx = C(x), cy = C(y);
    if constexpr (std::is_floating_point_v<C>) {
      if (cx != cx) return x;
      if (cy != cy) return y;
    }
    return (Max ? cx >= cy : cx <= cy) ? x : y;
  }
};

// g * (1 if x > y, 1/2 if x == y, else 0): see binary_math.h for why ties split the gradient.
template <typename T>
struct MaximumBackwardFn {
  OSPREY_INLINE T operator()(T gv, T x, T y) const {
    using C = compute_t<T>;
    C cx = C(x), cy = C(y);
    return T(cx > cy ? C(gv) : cx == cy ? C(gv) * C(0.5) : C(0));
  }
};

}  // namespace osprey::ops
