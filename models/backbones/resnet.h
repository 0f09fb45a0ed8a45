// ResNet backbones built from ResNetOptions (resnet_options.h); presets in resnet_presets.h.
//
// Parameter names (stable: checkpoints, transfer, freezing and lr multipliers key on them):
//   stem.conv.weight, stem.bn.{weight,bias,running_mean,running_var,num_batches_tracked},
//   stem.input_bn.* (pre-activation only)
//   <stage>.b<i>.conv1.weight, <stage>.b<i>.bn1.*, … conv2/bn2, conv3/bn3 (bottleneck),
//   <stage>.b<i>.shortcut.conv.weight, <stage>.b<i>.shortcut.bn.* (projection blocks),
//   <stage>.b<i>.conv2.conv_offset.{weight,bias} (deformable blocks),
//   final_bn.* (pre-activation only)
// where <stage> is res2, res3, … (ImageNet and small-image stems) or stage1, stage2, … (CIFAR
// stem) and i counts from 0: "res4.b3.conv2.weight", "res4.b0.shortcut.conv.weight",
// "stage3.b2.bn1.weight".
//
// Pre-activation follows MXNet's ResNet v2 as SNIPER's resnet_mx_101 (reference sniper-and-dcn.md
// §2.5): an input BN, BN → ReLU → conv units (residual_block.h), and after the last stage a
// final BN + ReLU (MXNet's bn1/relu1) that forward() applies; forward_features returns the raw
// residual sums of each stage, which is what SNIPER's detector concatenates.
//
// Dilation: with last_stage_dilation = d > 1 every 3×3 conv of the last stage has dilation d and
// padding d and the stage keeps stride 1 (as SNIPER's res5, where all three units are dilated;
// torchvision instead leaves the first block undilated).
//
// Initialisation, from the generator given: every conv weight Kaiming-normal, fan_out, ReLU gain
// (torchvision's), norms weight 1 and bias 0, deformable offset convs 0; then zero_init_residual.
//
// Frozen stages (frozen_stages = k): the stem (k ≥ 1) and stages 1 … k−1 have requires_grad =
// false and their norms stay in eval mode through train() (running statistics neither used from
// the batch nor updated).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/nn/layers/sequential.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"
#include "models/backbones/resnet_options.h"
#include "models/backbones/resnet_stem.h"

namespace osprey::models {

class ResNet : public nn::Module {
 public:
  ResNet(const ResNetOptions& options, random::Generator& generator);

  // The last stage's output (pre-activation: after final_bn and ReLU).
  Tensor forward(const Tensor& input) override;
  // "stem" and each stage's output, in order (pre-activation: the raw residual sums).
  nn::NamedTensors forward_features(const Tensor& input);
  std::string describe() const override;
  void train(bool on = true) override;

  const ResNetOptions& options() const { return options_; }
  const std::vector<std::string>& stage_names() const { return stage_names_; }
  // Channels and stride (input pixels per output pixel) of "stem" or a stage; unknown names are
  // an error listing the stages.
  int64_t out_channels(const std::string& name) const;
  int64_t feature_stride(const std::string& name) const;
  // Of the last stage: what forward() returns.
  int64_t out_channels() const { return stage_channels_.back(); }

 private:
  size_t stage_index(const std::string& name) const;  // 0: stem, i + 1: stage i
  void initialise(random::Generator& generator);
  void freeze();

  ResNetOptions options_;
  std::vector<std::string> stage_names_;
  std::vector<int64_t> stage_channels_;
  std::vector<int64_t> stage_strides_;
  std::shared_ptr<ResNetStem> stem_;
  std::vector<std::shared_ptr<nn::Sequential>> stages_;
  std::shared_ptr<nn::Module> final_bn_;
  std::vector<nn::Module*> frozen_;
};

// The number of output channels of a block: width (basic) or 4·width (bottleneck).
int64_t block_out_channels(BlockType block, int64_t width);

}  // namespace osprey::models
