// Batch normalisation over the channel dim (dim 1) of an N x C x (any spatial dims) input,
// following PyTorch's F.batch_norm.
//
//   training:  mean_c = E[x_c], var_c = E[(x_c - mean_c)^2] (biased) over N and every spatial dim;
//              y = (x - mean_c) * invstd_c * weight_c + bias_c, invstd_c = 1 / sqrt(var_c + eps).
//              When running stats are given they are updated in place (their version is bumped):
//                running_mean = (1 - momentum) * running_mean + momentum * mean_c
//                running_var  = (1 - momentum) * running_var  + momentum * var_c * M / (M - 1)
//              with the UNBIASED variance (M = values per channel), as PyTorch does. Note the
//              momentum convention: SNIPER/MXNet's momentum 0.995 (weight of the old value) is
//              0.005 here. A batch with one value per channel is an error (as in PyTorch); an
//              empty batch gives an empty output, save_mean = save_invstd = 0 and leaves the
//              running stats alone.
//   eval:      the running stats normalise (both required): mean_c = running_mean_c,
//              invstd_c = 1 / sqrt(running_var_c + eps); nothing is updated.
//
// Outputs: output, and the non-differentiable per-channel save_mean and save_invstd the backward
// reads. weight and bias are optional (absent: 1 and 0); running_mean/running_var are
// non-differentiable. With xhat = (x - mean) * invstd and sums over a channel's M values:
//   grad_bias   = sum(g)
//   grad_weight = sum(g * xhat)
//   grad_input  = weight * invstd * (g - sum(g) / M - xhat * sum(g * xhat) / M)   (training)
//   grad_input  = weight * invstd * g                                             (eval)
// computed by the registered op batch_norm_backward.
//
// Fused relu (attribute relu=true, default false): output = max(y, 0) with y as above, in the
// same pass (saves a read and a write of the activation and one activation-sized tensor). Its
// gradient first masks g by the saved output, g' = threshold_backward(g, output; 0) = g where
// output > 0 (0 where y <= 0, PyTorch's relu convention), then applies the formulas above to g'.
// save_mean/save_invstd are those of y. ResNet's conv -> batch_norm -> relu is one call.
// That op declares no derivative of its own:
// second-order gradients through batch_norm are not supported yet.
#pragma once

#include <tuple>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct BatchNormResult {
  Tensor output;
  Tensor save_mean;
  Tensor save_invstd;
};

// Undefined tensors stand for absent optional arguments.
BatchNormResult batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                           const Tensor& running_mean, const Tensor& running_var,
                           bool training = true, double momentum = 0.1, double eps = 1e-5,
                           bool relu = false);

// (grad_input, grad_weight, grad_bias); eval mode passes the running stats' mean and invstd as
// save_mean/save_invstd.
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_output,
                                                       const Tensor& input, const Tensor& weight,
                                                       const Tensor& save_mean,
                                                       const Tensor& save_invstd, bool training,
                                                       double eps = 1e-5);

// Per-channel affine y = input * scale_c + shift_c over dim 1, built on mul and add (so it is
// differentiable in all three). This is FrozenBatchNorm2d: with frozen statistics and parameters,
// scale = weight / sqrt(running_var + eps) and shift = bias - running_mean * scale, folded once.
Tensor frozen_batch_norm(const Tensor& input, const Tensor& scale, const Tensor& shift);

}  // namespace osprey::ops
