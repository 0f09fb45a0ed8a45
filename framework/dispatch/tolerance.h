// How close a kernel's results must be to the reference's: one tolerance table per dtype, used by
// `osprey check-kernel` at run time and by the test suite.
#pragma once

#include <string>

#include "framework/core/tensor.h"

namespace osprey::dispatch {

struct Tolerance {
  double atol;
  double rtol;
};
// Parity tolerances per dtype (against the reference in the same dtype); zero for integers.
Tolerance tolerance_for(DType dtype);

struct Comparison {
  bool ok = true;
  double max_abs_error = 0.0;  // over elements (NaN matching NaN counts as equal)
  std::string message;         // the first mismatch, or the shape difference; empty when ok
};
// Compares values (any device, layout or dtype) elementwise: |a - e| <= atol + rtol * |e|.
Comparison compare_tensors(const Tensor& actual, const Tensor& expected, Tolerance tol);

}  // namespace osprey::dispatch
