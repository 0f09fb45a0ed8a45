// Random RoI lists for op cases (see roi_cases.h).
#include "ops/common/roi_cases.h"

#include <algorithm>
#include <random>
#include <vector>

#include "framework/autograd/grad_mode.h"

namespace osprey::ops {

Tensor case_rois(CaseRandom& rng, int64_t rois, int64_t batch, int64_t height, int64_t width,
                 double spatial_scale, DType dtype, double outside) {
  std::vector<double> v;
  v.reserve(static_cast<size_t>(5 * rois));
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng.engine());
  };
  for (int64_t k = 0; k < rois; ++k) {
    const double x1 = uniform(-outside, static_cast<double>(width) - 0.5);
    const double y1 = uniform(-outside, static_cast<double>(height) - 0.5);
    const double x2 = std::min(x1 + uniform(0.2, 0.8 * static_cast<double>(width) + 1.0),
                               static_cast<double>(width) + outside);
    const double y2 = std::min(y1 + uniform(0.2, 0.8 * static_cast<double>(height) + 1.0),
                               static_cast<double>(height) + outside);
    v.push_back(static_cast<double>(batch > 0 ? rng.integer(0, batch - 1) : 0));
    for (double c : {x1, y1, x2, y2}) v.push_back(c / spatial_scale);
  }
  autograd::NoGradGuard no_grad;
  return Tensor::from_vector<double>(v, {rois, 5}).to(dtype);
}

}  // namespace osprey::ops
