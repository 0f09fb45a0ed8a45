// The convolutions of a ResNet block, bias-free as a norm (or, pre-activation, the next unit's
// norm) follows each. Their weights are re-initialised by the ResNet builder.
#pragma once

#include <memory>
#include <optional>

#include "framework/nn/module.h"
#include "models/backbones/resnet_options.h"

namespace osprey::models {

// A 3×3 conv with padding = dilation (the spatial size is kept at stride 1): an nn::Conv2d, or
// an nn::DeformConv2d with a zero-initialised offset conv when `deformable` is set.
std::shared_ptr<nn::Module> make_conv3x3(int64_t in_channels, int64_t out_channels, int64_t stride,
                                         int64_t dilation,
                                         const std::optional<DeformableStageOptions>& deformable);

std::shared_ptr<nn::Module> make_conv1x1(int64_t in_channels, int64_t out_channels,
                                         int64_t stride = 1);

}  // namespace osprey::models
