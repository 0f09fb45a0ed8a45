// Named ResNet configurations.
//   resnet18/34:        basic blocks, depths 2-2-2-2 / 3-4-6-3, widths 64-128-256-512, ImageNet
//                       stem (torchvision's parameter counts: 11,689,512 / 21,797,672 with a
//                       1000-class head)
//   resnet50/101/152:   bottleneck blocks, depths 3-4-6-3 / 3-4-23-3 / 3-8-36-3, same widths,
//                       stride on the 3×3 conv (torchvision "v1.5"; resnet50: 25,557,032)
//   resnet20/32/56:     CIFAR nets (He et al. 2016a §4.2): CIFAR stem 16 wide, 3 stages of
//                       n = 3/5/9 basic blocks, widths 16-32-64. Where the shape changes the
//                       shortcut is a 1×1 projection + norm ("option B"), not the paper's
//                       zero-padded identity ("option A"), so these have a few more parameters
//                       than the paper's 0.27 M / 0.46 M / 0.85 M (resnet20: 272,474 with 10
//                       classes, against 269,722 for option A).
#pragma once

#include <string>
#include <vector>

#include "models/backbones/resnet_options.h"

namespace osprey::models {

// The preset's options; an unknown name is an error listing the presets.
ResNetOptions resnet_preset(const std::string& name);
std::vector<std::string> resnet_preset_names();

}  // namespace osprey::models
