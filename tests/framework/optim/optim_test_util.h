// Small builders shared by the optimiser tests: f64 parameters with given values and gradients.
#pragma once

#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/optim/param_groups.h"

namespace osprey::optim::testing {

inline Tensor parameter(const std::vector<double>& values, const Shape& shape) {
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad(true);
  return t;
}

inline void set_grad(const Tensor& p, const std::vector<double>& values) {
  p.set_grad(Tensor::from_vector(values, p.shape()));
}

inline std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}

}  // namespace osprey::optim::testing
