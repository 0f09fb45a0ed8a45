// Shared test helpers: tolerances per dtype, tensor comparison, GPU skipping.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "framework/core/backend.h"
#include "framework/core/tensor.h"

namespace osprey::testing {

struct Tolerance {
  double atol;
  double rtol;
};
// One table of parity tolerances per dtype (against the f64/f32 reference).
Tolerance tolerance_for(DType dtype);

// Empty when `actual` matches `expected` (same shape; values within tolerance; NaN matches NaN);
// otherwise a message with the first mismatch.
std::string compare(const Tensor& actual, const Tensor& expected, Tolerance tol);

}  // namespace osprey::testing

#define OSPREY_SKIP_WITHOUT_GPU()                                              \
  do {                                                                         \
    if (!::osprey::cuda_available()) GTEST_SKIP() << "no CUDA device present"; \
  } while (0)
