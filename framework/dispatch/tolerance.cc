#include "framework/dispatch/tolerance.h"

#include <cmath>

namespace osprey::dispatch {

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

Comparison compare_tensors(const Tensor& actual, const Tensor& expected, Tolerance tol) {
  Comparison result;
  if (actual.shape() != expected.shape()) {
    result.ok = false;
    result.max_abs_error = INFINITY;
    result.message = fmt::format("shape {} vs expected {}", shape_str(actual.shape()),
                                 shape_str(expected.shape()));
    return result;
  }
  auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(e[i])) continue;
    if (a[i] == e[i]) continue;
    double error = std::abs(a[i] - e[i]);
    if (std::isnan(error)) error = INFINITY;
    result.max_abs_error = std::max(result.max_abs_error, error);
    if (!(error <= tol.atol + tol.rtol * std::abs(e[i])) && result.ok) {
      result.ok = false;
      result.message = fmt::format("element {}: {} vs expected {}", i, a[i], e[i]);
    }
  }
  return result;
}

}  // namespace osprey::dispatch
