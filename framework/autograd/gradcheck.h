// The gradient check every differentiable op is tested with. It compares the analytical gradient
// (autograd) of each differentiable input against double-precision central differences,
// |a - n| <= atol + rtol * |n|, using the full Jacobian for small cases and random projections of
// outputs (and of input directions, for large inputs) otherwise. It also checks that
//   - backward accumulates onto a pre-filled .grad (grad = prefill + analytical),
//   - two backward runs give the same gradients,
//   - every output element was written (new outputs are poisoned with NaN first).
// Failures name the function, the input, the flat index and both values.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/dispatch/op_def.h"

namespace osprey::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  int64_t full_jacobian_max_outputs = 32;  // output elements; beyond: random projections
  int64_t per_element_max_inputs = 2048;   // input elements; beyond: random directions
  int projections = 2;
  int directions = 8;
  uint64_t seed = 1234;
  bool check_accumulation = true;
  bool check_repeatability = true;
  bool check_poison = true;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // empty when ok; the first failure otherwise
  double max_abs_error = 0.0;
  int64_t checks = 0;  // number of compared values
  explicit operator bool() const { return ok; }
};

using Function = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// `inputs` should be f64. `differentiable[i]` false skips input i (default: every floating input).
GradcheckResult gradcheck(const std::string& name, const Function& fn,
                          const std::vector<Tensor>& inputs, std::vector<bool> differentiable = {},
                          const GradcheckOptions& options = {});

// Checks op `op` on one of its cases with the case's inputs converted to f64, forcing the op's
// cpu/reference kernel.
GradcheckResult gradcheck_op(const std::string& op, const dispatch::OpCase& op_case,
                             const GradcheckOptions& options = {});

}  // namespace osprey::autograd
