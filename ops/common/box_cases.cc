// Random boxes and scores for the box ops' case lists (see box_cases.h).
#include "ops/common/box_cases.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace osprey::ops {

Tensor random_boxes(CaseRandom& rng, int64_t n, DType dtype, double extent, double min_side,
                    double max_side, bool integer) {
  std::uniform_real_distribution<double> corner(0.0, extent), side(min_side, max_side);
  std::vector<double> v(static_cast<size_t>(4 * n));
  for (int64_t i = 0; i < n; ++i) {
    double x = corner(rng.engine()), y = corner(rng.engine());
    double w = side(rng.engine()), h = side(rng.engine());
    if (integer) x = std::floor(x), y = std::floor(y), w = std::floor(w), h = std::floor(h);
    v[4 * i] = x, v[4 * i + 1] = y, v[4 * i + 2] = x + w, v[4 * i + 3] = y + h;
  }
  return Tensor::from_vector<double>(v, {n, 4}).to(dtype);
}

Tensor distinct_scores(CaseRandom& rng, int64_t n, DType dtype) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
  std::shuffle(v.begin(), v.end(), rng.engine());
  return Tensor::from_vector<double>(v, {n}).to(dtype);
}

}  // namespace osprey::ops
