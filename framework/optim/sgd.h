// Stochastic gradient descent with momentum, exactly as PyTorch's torch.optim.SGD (per parameter,
// lr = lr() * lr_mult, weight_decay = options.weight_decay * decay_mult):
//   d = g + weight_decay * p
//   b = d on a parameter's first update, else momentum * b + (1 - dampening) * d
//   d = nesterov ? d + momentum * b : b        (momentum != 0 only)
//   p = p - lr * d
// State slot: "momentum_buffer" (only when momentum != 0).
#pragma once

#include "framework/optim/optimizer.h"

namespace osprey::optim {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class Sgd final : public Optimizer {
 public:
  // Errors on negative momentum / decay / dampening and on nesterov without momentum or with
  // dampening (PyTorch's rules).
  Sgd(const NamedParameters& params, const SgdOptions& options,
      const ParamGroupOptions& groups = {});
  const SgdOptions& options() const { return options_; }

 private:
  void update(const std::vector<size_t>& indices, const std::vector<Tensor>& grads) override;
  SgdOptions options_;
};

}  // namespace osprey::optim
