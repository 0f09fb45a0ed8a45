#include "tests/support/op_test_support.h"

#include <fmt/format.h>

#include <cmath>

namespace osprey::testing {

Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return {1e-10, 1e-9};
    case DType::f32:
      return {1e-5, 1e-4};
    case DType::f16:
      return {1e-2, 1e-2};
    case DType::bf16:
      return {5e-2, 2e-2};
    default:
      return {0, 0};
  }
}

std::string compare(const Tensor& actual, const Tensor& expected, Tolerance tol) {
  if (actual.shape() != expected.shape()) {
    return fmt::format("shape {} vs expected {}", shape_str(actual.shape()),
                       shape_str(expected.shape()));
  }
  auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(e[i])) continue;
    if (a[i] == e[i]) continue;
    if (!(std::abs(a[i] - e[i]) <= tol.atol + tol.rtol * std::abs(e[i]))) {
      return fmt::format("element {}: {} vs expected {}", i, a[i], e[i]);
    }
  }
  return {};
}

}  // namespace osprey::testing
