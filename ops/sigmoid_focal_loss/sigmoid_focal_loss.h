// Sigmoid focal loss (torchvision.ops.sigmoid_focal_loss semantics) with optional per-element
// weights; with gamma = 0 and alpha < 0 it is the sigmoid (binary) cross-entropy on logits, so
// sigmoid_cross_entropy below is this one op with those attributes.
//
// input (logits) and target have the same shape and floating dtype; target holds probabilities
// in [0, 1] (usually 0/1 labels); weight (optional) has that shape too (all 1 when absent; 0
// drops an element, e.g. SNIPER's ignored anchors). With p = σ(x), t = target:
//
//   ce   = −t·log p − (1 − t)·log(1 − p) = max(x, 0) − x·t + log(1 + e^(−|x|))   (stable form)
//   m    = 1 − p_t = p + t − 2·p·t        (p_t = p·t + (1 − p)·(1 − t))
//   a_t  = α·t + (1 − α)·(1 − t) when α ≥ 0, 1 when α < 0 (torchvision's "alpha = −1: none")
//   loss = w · a_t · ce · m^γ             (m^0 = 1, also at m = 0)
//
// Defaults are torchvision's: α = 0.25, γ = 2, reduction "none". Reductions: "none" (loss shaped
// like input), "sum", "mean" (Σ / numel, PyTorch's rule; the weights do not change the divisor;
// empty input gives NaN). α must be < 0 or in [0, 1]; γ ≥ 0.
//
// The derivative is the op sigmoid_focal_loss_backward(grad_output, input, target, weight; same
// attrs) returning grad_input, with dp/dx = p·(1 − p) and dm/dx = p·(1 − p)·(1 − 2t):
//
//   grad_input = s · w · a_t · ((p − t)·m^γ + ce·γ·m^(γ−1)·p·(1 − p)·(1 − 2t))
//
// (the second term is taken as 0 when γ = 0 or m = 0), s = grad_output element ("none"),
// grad_output ("sum") or grad_output / numel ("mean"). target and weight are not differentiable;
// the backward op is not differentiable itself (no double backward).
#pragma once

#include <string>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct SigmoidFocalLossOptions {
  Tensor weight;        // per-element weights shaped like input; undefined: all 1
  double alpha = 0.25;  // < 0: no class balancing
  double gamma = 2.0;
  std::string reduction = "none";  // "none", "mean" or "sum"
};

Tensor sigmoid_focal_loss(const Tensor& input, const Tensor& target,
                          const SigmoidFocalLossOptions& options = {});
Tensor sigmoid_focal_loss_backward(const Tensor& grad_output, const Tensor& input,
                                   const Tensor& target,
                                   const SigmoidFocalLossOptions& options = {});

// Binary cross-entropy on logits with per-element weights: sigmoid_focal_loss with α = −1, γ = 0.
Tensor sigmoid_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                             const std::string& reduction = "mean");

}  // namespace osprey::ops
