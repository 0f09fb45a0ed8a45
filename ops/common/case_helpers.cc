#include "ops/common/case_helpers.h"

#include "framework/autograd/grad_mode.h"

namespace osprey::ops {

Tensor CaseRandom::uniform(const Shape& shape, DType dtype, double lo, double hi) {
  std::vector<double> values(shape_numel(shape));
  if (is_floating(dtype)) {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (auto& v : values) v = dist(engine_);
  } else {
    std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(lo),
                                                static_cast<int64_t>(hi) - 1);
    for (auto& v : values) v = static_cast<double>(dist(engine_));
  }
  autograd::NoGradGuard no_grad;
  return Tensor::from_vector<double>(values, shape).to(dtype);
}

Tensor CaseRandom::away_from_zero(const Shape& shape, DType dtype, double gap, double hi) {
  std::vector<double> values(shape_numel(shape));
  std::uniform_real_distribution<double> dist(gap, hi);
  std::bernoulli_distribution sign(0.5);
  for (auto& v : values) v = sign(engine_) ? dist(engine_) : -dist(engine_);
  autograd::NoGradGuard no_grad;
  return Tensor::from_vector<double>(values, shape).to(dtype);
}

int64_t CaseRandom::integer(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
}

Tensor non_contiguous(const Tensor& t) {
  autograd::NoGradGuard no_grad;
  if (t.dim() >= 2) {
    // Store transposed, then view back: same values, transposed strides.
    return t.transpose(-1, -2).contiguous().transpose(-1, -2);
  }
  if (t.dim() == 1) {
    Shape doubled = {t.size(0) * 2};
    Tensor wide = Tensor::empty(doubled, t.dtype(), t.device());
    wide.zero_();
    Tensor view = wide.slice(0, 0, doubled[0], 2);
    view.copy_(t);
    return view;
  }
  return t;
}

}  // namespace osprey::ops
