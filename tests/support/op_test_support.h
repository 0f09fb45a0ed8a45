// Shared test helpers: the library's per-dtype tolerance table, tensor comparison, GPU skipping.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "framework/core/backend.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/tolerance.h"

namespace osprey::testing {

using dispatch::Tolerance;
using dispatch::tolerance_for;

// Empty when `actual` matches `expected` (same shape; values within tolerance; NaN matches NaN);
// otherwise a message with the first mismatch.
inline std::string compare(const Tensor& actual, const Tensor& expected, Tolerance tol) {
  return dispatch::compare_tensors(actual, expected, tol).message;
}

}  // namespace osprey::testing

#define OSPREY_SKIP_WITHOUT_GPU()                                              \
  do {                                                                         \
    if (!::osprey::cuda_available()) GTEST_SKIP() << "no CUDA device present"; \
  } while (0)
