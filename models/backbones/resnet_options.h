// The options a ResNet is built from: a plain C++ struct (model code never reads protobuf; the
// factory in models/model_factory.cc maps a BackboneSpec onto it).
//
// Stage names, used in parameter names and in DeformableStageOptions::stage: with the ImageNet
// and small-image stems the stages are "res2", "res3", … (the stem being "res1" in the
// MSRA/Detectron convention, so a 4-stage net ends in "res5"); with the CIFAR stem they are
// "stage1", "stage2", … as in the CIFAR ResNet paper. See resnet.h for the full naming scheme.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::models {

enum class BlockType { basic, bottleneck };

enum class StemType {
  imagenet,     // 7×7/2 conv (stem_width) + BN + ReLU + 3×3/2 max pool: output stride 4
  cifar,        // 3×3/1 conv + BN + ReLU: output stride 1 (stage names stage1…)
  small_image,  // 3×3/1 conv + BN + ReLU, no pool: ImageNet-style stages on 28–64 px inputs
};

enum class NormType { batch_norm, frozen_batch_norm };

struct NormOptions {
  NormType type = NormType::batch_norm;
  double momentum = 0.1;  // PyTorch convention (MXNet's 0.995 is 0.005 here)
  double eps = 1e-5;
};

// Makes the 3×3 conv (conv2) of the blocks of one stage deformable.
struct DeformableStageOptions {
  std::string stage;  // "res5", "stage3", …
  int version = 2;    // 1: DCNv1 (offsets only); 2: DCNv2 (offsets and a modulation mask)
  int64_t offset_groups = 1;
  int64_t first_block = 0;               // blocks first_block… of the stage are deformable
  std::string boundary = "torchvision";  // or "mxnet_v1", see ops/deform_conv2d
  double mask_scale = 2.0;  // v2 mask = mask_scale · sigmoid(logits), see DeformConv2d
};

struct ResNetOptions {
  BlockType block = BlockType::bottleneck;
  std::vector<int64_t> depths{3, 4, 6, 3};  // blocks per stage
  // Channels of each stage's 3×3 convs; a stage outputs widths[i] (basic) or 4·widths[i]
  // (bottleneck) channels.
  std::vector<int64_t> widths{64, 128, 256, 512};
  StemType stem = StemType::imagenet;
  int64_t stem_width = 64;
  int64_t in_channels = 3;
  // MXNet ResNet v2 as SNIPER's resnet_mx_101 (see resnet.h): BN → ReLU → conv units, a BN on
  // the input, projection shortcuts without a norm, and a final BN + ReLU in forward().
  bool pre_activation = false;
  std::vector<DeformableStageOptions> deformable;
  // > 1: the last stage keeps stride 1 and dilates its 3×3 convs by this (2: output stride 16
  // with the ImageNet stem).
  int64_t last_stage_dilation = 1;
  NormOptions norm;
  // 0: nothing frozen; 1: the stem; k > 1: the stem and the first k−1 stages.
  int frozen_stages = 0;
  // Start each residual branch at zero: the weight of its last norm (post-activation) or of its
  // last conv (pre-activation, whose branch ends in a conv) is set to 0.
  bool zero_init_residual = false;
};

// "res2", "res3", … or "stage1", "stage2", … (one per entry of depths).
std::vector<std::string> resnet_stage_names(const ResNetOptions& options);

}  // namespace osprey::models
