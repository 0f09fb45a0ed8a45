// Smooth L1 (Huber-like) loss with optional per-element weights, PyTorch's smooth_l1_loss
// semantics plus SNIPER's bbox weights.
//
// input and target have the same shape and floating dtype; weight (optional) has that shape too
// (all 1 when absent; SNIPER's bbox_weights, 0 where a regression target does not count). With
// d = input − target and β ≥ 0:
//
//   loss_i = w_i · (0.5 · d_i² / β   if |d_i| < β
//                   |d_i| − 0.5 · β  otherwise)
//
// β = 0 is the L1 loss |d| (no division by zero: the first branch never holds). SNIPER's
// smooth_l1 with scalar σ is β = 1/σ² (σ = 1 there, so β = 1). Reductions:
//   "none"  loss shaped like input
//   "sum"   Σ_i loss_i
//   "mean"  Σ_i loss_i / numel (PyTorch's rule: the weights do not change the divisor; an empty
//           input gives NaN, as PyTorch does). SNIPER normalises by a batch constant instead:
//           use "sum" and scale.
//
// The derivative is the op smooth_l1_loss_backward(grad_output, input, target, weight; beta,
// reduction), which returns grad_input:
//
//   grad_input_i = s_i · w_i · (d_i / β  if |d_i| < β,  sign(d_i) otherwise; sign(0) = 0)
//
// with s_i = grad_output_i ("none"), grad_output ("sum") or grad_output / numel ("mean");
// grad_target = −grad_input. weight is not differentiable (it is a mask-like input). The backward
// op is not differentiable itself (no double backward).
#pragma once

#include <string>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct SmoothL1LossOptions {
  Tensor weight;  // per-element weights shaped like input; undefined: all 1
  double beta = 1.0;
  std::string reduction = "mean";  // "mean", "sum" or "none"
};

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      const SmoothL1LossOptions& options = {});
Tensor smooth_l1_loss_backward(const Tensor& grad_output, const Tensor& input, const Tensor& target,
                               const SmoothL1LossOptions& options = {});

}  // namespace osprey::ops
