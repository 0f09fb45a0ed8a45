// BasicBlock: two 3×3 convs (ResNet-18/34 and the CIFAR ResNets); see residual_block.h.
#include "framework/nn/init.h"
#include "models/backbones/conv_layers.h"
#include "models/backbones/norm_layer.h"
#include "models/backbones/residual_block.h"
#include "ops/activation/activation.h"
#include "ops/add_relu/add_relu.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::models {

BasicBlock::BasicBlock(const BlockOptions& options) : ResidualBlock(options) {
  const bool pre = options.pre_activation;
  if (pre) bn1_ = register_module("bn1", make_norm(options.norm, options.in_channels));
  conv1_ = register_module("conv1", make_conv3x3(options.in_channels, options.width, options.stride,
                                                 options.dilation, std::nullopt));
  if (!pre) bn1_ = register_module("bn1", make_norm(options.norm, options.width));
  if (pre) bn2_ = register_module("bn2", make_norm(options.norm, options.width));
  conv2_ = register_module("conv2", make_conv3x3(options.width, options.out_channels, 1,
                                                 options.dilation, options.deformable));
  if (!pre) bn2_ = register_module("bn2", make_norm(options.norm, options.out_channels));
  add_shortcut();
}

Tensor BasicBlock::forward(const Tensor& input) {
  if (options_.pre_activation) {
    const Tensor activated = norm_relu(*bn1_, input);
    Tensor branch = (*conv1_)(activated);
    branch = (*conv2_)(norm_relu(*bn2_, branch));
    return ops::add(branch, shortcut(input, activated));
  }
  Tensor branch = norm_relu(*bn1_, (*conv1_)(input));
  branch = (*bn2_)((*conv2_)(branch));
  return ops::add_relu(branch, shortcut(input, input));
}

void BasicBlock::zero_init_residual() {
  if (!options_.pre_activation) return zero_norm_scale(*bn2_);
  for (auto [name, weight] : conv2_->named_parameters(false))
    if (name == "weight") nn::init::constant_(weight, 0.0);
}

std::string BasicBlock::describe() const {
  return fmt::format("BasicBlock({}→{}, stride={}, dilation={}{}{})", options_.in_channels,
                     options_.out_channels, options_.stride, options_.dilation,
                     options_.pre_activation ? ", pre-activation" : "",
                     options_.deformable ? ", deformable" : "");
}

}  // namespace osprey::models
