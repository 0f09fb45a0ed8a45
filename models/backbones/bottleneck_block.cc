// BottleneckBlock: 1×1 → 3×3 → 1×1 (ResNet-50/101/152); see residual_block.h.
#include "framework/nn/init.h"
#include "models/backbones/conv_layers.h"
#include "models/backbones/norm_layer.h"
#include "models/backbones/residual_block.h"
#include "ops/activation/activation.h"
#include "ops/add_relu/add_relu.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::models {

BottleneckBlock::BottleneckBlock(const BlockOptions& options) : ResidualBlock(options) {
  const bool pre = options.pre_activation;
  if (pre) bn1_ = register_module("bn1", make_norm(options.norm, options.in_channels));
  conv1_ = register_module("conv1", make_conv1x1(options.in_channels, options.width));
  if (!pre) bn1_ = register_module("bn1", make_norm(options.norm, options.width));
  if (pre) bn2_ = register_module("bn2", make_norm(options.norm, options.width));
  conv2_ = register_module("conv2", make_conv3x3(options.width, options.width, options.stride,
                                                 options.dilation, options.deformable));
  if (!pre) bn2_ = register_module("bn2", make_norm(options.norm, options.width));
  if (pre) bn3_ = register_module("bn3", make_norm(options.norm, options.width));
  conv3_ = register_module("conv3", make_conv1x1(options.width, options.out_channels));
  if (!pre) bn3_ = register_module("bn3", make_norm(options.norm, options.out_channels));
  add_shortcut();
}

Tensor BottleneckBlock::forward(const Tensor& input) {
  if (options_.pre_activation) {
    const Tensor activated = norm_relu(*bn1_, input);
    Tensor branch = (*conv1_)(activated);
    branch = (*conv2_)(norm_relu(*bn2_, branch));
    branch = (*conv3_)(norm_relu(*bn3_, branch));
    return ops::add(branch, shortcut(input, activated));
  }
  Tensor branch = norm_relu(*bn1_, (*conv1_)(input));
  branch = norm_relu(*bn2_, (*conv2_)(branch));
  branch = (*bn3_)((*conv3_)(branch));
  return ops::add_relu(branch, shortcut(input, input));
}

void BottleneckBlock::zero_init_residual() {
  if (!options_.pre_activation) return zero_norm_scale(*bn3_);
  for (auto [name, weight] : conv3_->named_parameters(false))
    if (name == "weight") nn::init::constant_(weight, 0.0);
}

std::string BottleneckBlock::describe() const {
  return fmt::format("BottleneckBlock({}→{}→{}, stride={}, dilation={}{}{})", options_.in_channels,
                     options_.width, options_.out_channels, options_.stride, options_.dilation,
                     options_.pre_activation ? ", pre-activation" : "",
                     options_.deformable ? ", deformable" : "");
}

}  // namespace osprey::models
