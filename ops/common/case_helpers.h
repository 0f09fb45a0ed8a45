// Building blocks for op case lists: deterministic random tensors (host-side mt19937 so case lists
// do not depend on the RNG ops they may be testing) and layout variants.
#pragma once

#include <cstdint>
#include <random>

#include "framework/core/tensor.h"

namespace osprey::ops {

class CaseRandom {
 public:
  explicit CaseRandom(uint64_t seed) : engine_(seed) {}
  // Uniform values in [lo, hi) of a floating dtype (integral dtypes get integers in [lo, hi)).
  Tensor uniform(const Shape& shape, DType dtype, double lo = -1.0, double hi = 1.0);
  // Values whose magnitude is at least `gap` (away from kinks such as |x| or relu at 0).
  Tensor away_from_zero(const Shape& shape, DType dtype, double gap = 0.1, double hi = 1.0);
  int64_t integer(int64_t lo, int64_t hi);  // in [lo, hi]
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

// The same values in a non-contiguous layout: stored transposed in the last two dims (or with a
// stride-2 step for 1-d tensors).
Tensor non_contiguous(const Tensor& t);

}  // namespace osprey::ops
