// The update math of the optimisers as registered ops, so kernels are swappable: `sgd_update` and
// `adamw_update` update many parameters (and their optimiser state) in place in one call. The CPU
// reference loops over the tensors; `cuda/multi_tensor` updates every tensor of the call in one
// launch over a table of tensor pointers, split into fixed-size chunks.
//
// Both ops take one variadic input list, grouped by role, n tensors per role:
//   sgd_update:   params[0..n), grads[0..n), momentum_buffers[0..n) (the last group only when
//                 momentum != 0)
//   adamw_update: params[0..n), grads[0..n), exp_avgs[0..n), exp_avg_sqs[0..n)
// and per-tensor attributes (lr, weight_decay: one value per parameter, so per-parameter
// multipliers need no extra call). Every tensor of a parameter has the parameter's shape and dtype;
// any layout works (tensors sharing one dense layout, the usual case, are updated directly, others
// through contiguous copies). Params and state are written in place (their version is bumped);
// there are no outputs and no derivative: optimiser steps run under NoGradGuard.
//
// sgd_update (PyTorch's torch.optim.SGD, per parameter i, scalars cast to the tensor's dtype):
//   d = g + weight_decay[i] * p                       (skipped when weight_decay[i] == 0)
//   momentum != 0:  b = new_buffer[i] ? d : momentum * b + (1 - dampening) * d
//                   d = nesterov ? d + momentum * b : b
//   p = p - lr[i] * d
// adamw_update (PyTorch's torch.optim.AdamW, t = step[i] counted from 1 after this update):
//   p = p * (1 - lr[i] * weight_decay[i])             (decoupled decay)
//   m = m + (1 - beta1) * (g - m)                     (lerp, as PyTorch)
//   v = v * beta2 + (1 - beta2) * g * g
//   p = p - (lr[i] / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The bias corrections are computed in double on the host and cast, as PyTorch does.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct SgdUpdateOptions {
  std::vector<double> lr{};            // one per parameter
  std::vector<double> weight_decay{};  // one per parameter
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  // One per parameter (empty: none): 1 where the momentum buffer is new and takes d as is.
  std::vector<int64_t> new_buffer{};
};
void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentum_buffers, const SgdUpdateOptions& options);

struct AdamWUpdateOptions {
  std::vector<double> lr{};            // one per parameter
  std::vector<double> weight_decay{};  // one per parameter
  std::vector<int64_t> step{};         // one per parameter: its step count including this update
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};
void adamw_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
                  const AdamWUpdateOptions& options);

}  // namespace osprey::ops
