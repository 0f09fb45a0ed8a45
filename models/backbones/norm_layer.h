// The norm layer of a ResNet: BatchNorm2d or FrozenBatchNorm2d (same tensor names, so
// checkpoints move between the two).
#pragma once

#include <memory>

#include "framework/nn/module.h"
#include "models/backbones/resnet_options.h"

namespace osprey::models {

std::shared_ptr<nn::Module> make_norm(const NormOptions& options, int64_t channels);

// relu(norm(x)), fused into one op for BatchNorm2d.
Tensor norm_relu(nn::Module& norm, const Tensor& input);

// Sets the norm's scale (its "weight" parameter or buffer) to zero: zero_init_residual.
void zero_norm_scale(nn::Module& norm);

}  // namespace osprey::models
