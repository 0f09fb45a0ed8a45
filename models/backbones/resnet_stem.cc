#include "models/backbones/resnet_stem.h"

#include "framework/nn/layers/conv2d.h"
#include "framework/random/generator.h"
#include "models/backbones/norm_layer.h"
#include "ops/activation/activation.h"
#include "ops/pool/pool.h"

namespace osprey::models {

ResNetStem::ResNetStem(const ResNetOptions& options)
    : type_(options.stem), out_channels_(options.stem_width) {
  if (options.pre_activation) {
    input_bn_ = register_module("input_bn", make_norm(options.norm, options.in_channels));
    for (auto [name, weight] : input_bn_->named_parameters(false))
      if (name == "weight") weight.set_requires_grad(false);
  }
  const bool imagenet = type_ == StemType::imagenet;
  nn::Conv2dOptions conv;
  conv.in_channels = options.in_channels;
  conv.out_channels = options.stem_width;
  conv.kernel_size = imagenet ? std::vector<int64_t>{7, 7} : std::vector<int64_t>{3, 3};
  conv.stride = imagenet ? std::vector<int64_t>{2, 2} : std::vector<int64_t>{1, 1};
  conv.padding = imagenet ? std::vector<int64_t>{3, 3} : std::vector<int64_t>{1, 1};
  conv.bias = false;
  random::Generator scratch(0);  // re-initialised by the ResNet builder
  conv_ = register_module("conv", std::make_shared<nn::Conv2d>(conv, scratch));
  bn_ = register_module("bn", make_norm(options.norm, options.stem_width));
}

Tensor ResNetStem::forward(const Tensor& input) {
  Tensor out = input_bn_ ? (*input_bn_)(input) : input;
  out = norm_relu(*bn_, (*conv_)(out));
  if (type_ != StemType::imagenet) return out;
  return ops::max_pool2d(out, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false).first;
}

std::string ResNetStem::describe() const {
  static constexpr const char* kNames[] = {"imagenet", "cifar", "small_image"};
  return fmt::format("ResNetStem({}, {} channels{})", kNames[static_cast<int>(type_)],
                     out_channels_, input_bn_ ? ", input_bn" : "");
}

}  // namespace osprey::models
