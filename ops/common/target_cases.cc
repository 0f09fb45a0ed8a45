// Box tensors for the detection target ops' case lists (see target_cases.h).
#include "ops/common/target_cases.h"

#include <random>

namespace osprey::ops::target_cases {

Tensor random_boxes(CaseRandom& rng, const Shape& leading, double extent, double min_side,
                    double max_side, DType dtype) {
  int64_t count = 1;
  for (int64_t s : leading) count *= s;
  std::uniform_real_distribution<double> corner(0.0, extent), side(min_side, max_side);
  std::vector<double> v;
  v.reserve(static_cast<size_t>(4 * count));
  for (int64_t i = 0; i < count; ++i) {
    const double x = corner(rng.engine()), y = corner(rng.engine());
    const double w = side(rng.engine()), h = side(rng.engine());
    v.insert(v.end(), {x, y, x + w, y + h});
  }
  Shape shape = leading;
  shape.push_back(4);
  return Tensor::from_vector<double>(v, shape).to(dtype);
}

Tensor grid_anchors(int64_t map, double stride, const std::vector<double>& sizes, DType dtype) {
  std::vector<double> v;
  for (int64_t y = 0; y < map; ++y) {
    for (int64_t x = 0; x < map; ++x) {
      const double cx = (x + 0.5) * stride, cy = (y + 0.5) * stride;
      for (double s : sizes) v.insert(v.end(), {cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2});
    }
  }
  const int64_t rows = static_cast<int64_t>(v.size() / 4);
  return Tensor::from_vector<double>(v, {rows, 4}).to(dtype);
}

}  // namespace osprey::ops::target_cases
