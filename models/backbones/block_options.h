// What a residual block is built from (BasicBlock, BottleneckBlock).
#pragma once

#include <cstdint>
#include <optional>

#include "models/backbones/resnet_options.h"

namespace osprey::models {

struct BlockOptions {
  int64_t in_channels = 0;
  int64_t width = 0;         // channels of the 3×3 convs
  int64_t out_channels = 0;  // width (basic) or 4·width (bottleneck)
  int64_t stride = 1;        // on the first 3×3 conv (basic) or the 3×3 conv (bottleneck: "v1.5")
  int64_t dilation = 1;      // of every 3×3 conv of the block (padding = dilation)
  bool pre_activation = false;
  NormOptions norm;
  // Set: conv2, the block's (last) 3×3 conv, is a DeformConv2d.
  std::optional<DeformableStageOptions> deformable;
};

}  // namespace osprey::models
