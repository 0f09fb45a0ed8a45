#include "models/backbones/residual_block.h"

#include "models/backbones/conv_layers.h"
#include "models/backbones/norm_layer.h"

namespace osprey::models {

Shortcut::Shortcut(const BlockOptions& options) {
  conv_ = register_module("conv",
                          make_conv1x1(options.in_channels, options.out_channels, options.stride));
  if (!options.pre_activation)
    bn_ = register_module("bn", make_norm(options.norm, options.out_channels));
}

Tensor Shortcut::forward(const Tensor& input) {
  Tensor out = (*conv_)(input);
  return bn_ ? (*bn_)(out) : out;
}

ResidualBlock::ResidualBlock(const BlockOptions& options) : options_(options) {
  OSPREY_CHECK_KIND(value,
                    options.in_channels > 0 && options.width > 0 && options.out_channels > 0 &&
                        options.stride > 0 && options.dilation > 0,
                    "residual block: channels (in {}, width {}, out {}), stride {} and dilation "
                    "{} must be positive",
                    options.in_channels, options.width, options.out_channels, options.stride,
                    options.dilation);
}

void ResidualBlock::add_shortcut() {
  if (options_.stride != 1 || options_.in_channels != options_.out_channels)
    shortcut_ = register_module("shortcut", std::make_shared<Shortcut>(options_));
}

Tensor ResidualBlock::shortcut(const Tensor& input, const Tensor& activated) const {
  if (!shortcut_) return input;
  return (*shortcut_)(options_.pre_activation ? activated : input);
}

}  // namespace osprey::models
