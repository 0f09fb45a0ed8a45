// Gradient-norm clipping and the non-finite gradient check a trainer runs before each step.
#pragma once

#include <optional>
#include <string>

#include "framework/optim/param_groups.h"

namespace osprey::optim {

// The global L2 norm of every defined gradient, sqrt(sum over params of sum g^2), accumulated in
// double (on the host for CPU gradients; for CUDA gradients each tensor's sum of squares is taken
// on the device in its dtype and the per-tensor sums come back in one copy per device). When the
// norm exceeds max_norm every gradient is scaled in place by max_norm / (norm + 1e-6), as
// torch.nn.utils.clip_grad_norm_. A non-finite norm leaves the gradients as they are (PyTorch would
// scale them to NaN): check first_nonfinite_grad and stop. Returns the norm before clipping.
// Parameters without a gradient are skipped.
double clip_grad_norm(const NamedParameters& params, double max_norm);

// The name of the first parameter (in list order) whose gradient holds a NaN or an infinity;
// nullopt when every defined gradient is finite.
std::optional<std::string> first_nonfinite_grad(const NamedParameters& params);

}  // namespace osprey::optim
