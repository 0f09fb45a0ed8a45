// AdamW (decoupled weight decay), exactly as PyTorch's torch.optim.AdamW without amsgrad, per
// parameter (lr = lr() * lr_mult, weight_decay = options.weight_decay * decay_mult, t = the
// parameter's update count including this one):
//   p = p * (1 - lr * weight_decay)
//   m = beta1 * m + (1 - beta1) * g                    (m, v start at 0)
//   v = beta2 * v + (1 - beta2) * g * g
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State slots: "exp_avg" (m) and "exp_avg_sq" (v); counters "step/<name>" hold t.
#pragma once

#include "framework/optim/optimizer.h"

namespace osprey::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW final : public Optimizer {
 public:
  // Errors on betas outside [0, 1), negative eps or decay.
  AdamW(const NamedParameters& params, const AdamWOptions& options,
        const ParamGroupOptions& groups = {});
  const AdamWOptions& options() const { return options_; }

 private:
  void update(const std::vector<size_t>& indices, const std::vector<Tensor>& grads) override;
  AdamWOptions options_;
};

}  // namespace osprey::optim
