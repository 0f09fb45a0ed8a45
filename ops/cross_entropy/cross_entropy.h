// Cross-entropy between logits and class-index targets, with PyTorch's semantics.
//
// input is N x C (or N x C x d1 x ..., or just C with a 0-d target); target is i64, shaped like
// input without the class dim; weight (optional) holds one weight w[c] per class (all 1 when
// absent); element_weight (optional) holds one weight e_n per position, shaped like target (all 1
// when absent; e.g. SNIPER's per-RoI or per-anchor weights). With lp = log_softmax(input) along
// the class dim (computed stably inside the kernel), ε = label_smoothing and t the target of
// position n:
//
//   loss_n = e_n · ((1 - ε) · (-w[t] · lp[n, t])  +  (ε / C) · (-Σ_c w[c] · lp[n, c]))
//
// and loss_n = 0 where t == ignore_index. Reductions:
//   "none"   loss shaped like target
//   "sum"    Σ_n loss_n
//   "mean"   Σ_n loss_n / Σ_{n not ignored} e_n · w[t_n]   (the weighted count; PyTorch's rule,
//            used for the smoothing term too, with the element weights joining the class
//            weights). Every target ignored (or an empty batch) divides 0 by 0 and gives NaN, as
//            PyTorch does.
//   "valid"  Σ_n loss_n / max(1, #{n : t_n != ignore_index})   (SNIPER / MXNet SoftmaxOutput's
//            normalization 'valid': the plain count of non-ignored positions, whatever the
//            weights; the max(1, ·) keeps an all-ignored batch at 0 instead of NaN, as MXNet does).
// A target outside [0, C) that is not ignore_index is an error naming the value.
//
// The derivative is the op cross_entropy_backward(grad_output, input, target, weight,
// element_weight; same attrs), with p = softmax(input) and a_c = -(1 - ε) w[t] [c == t] -
// (ε / C) w[c]:
//
//   grad_input[n, c] = s_n · e_n · (a_c - p[n, c] · Σ_k a_k),   0 at ignored positions,
//
// s_n = grad_output[n] ("none"), grad_output ("sum"), grad_output / Σ e_n w[t_n] ("mean") or
// grad_output / max(1, count) ("valid"). Only input is differentiable. cross_entropy_backward is
// differentiable in grad_output and input (composite double backward, formula in cross_entropy.cc).
// Ignored positions get a zero gradient, even when an all-ignored "mean" makes the loss NaN. New
// optional inputs are appended after weight, so existing calls keep their meaning.
#pragma once

#include <string>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct CrossEntropyOptions {
  Tensor weight;  // per-class weights (C), undefined: all 1
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;
  std::string reduction = "mean";  // "mean", "sum", "none" or "valid"
  Tensor element_weight;           // per-position weights shaped like target, undefined: all 1
};

Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options = {});
Tensor cross_entropy_backward(const Tensor& grad_output, const Tensor& input, const Tensor& target,
                              const CrossEntropyOptions& options = {});

}  // namespace osprey::ops
