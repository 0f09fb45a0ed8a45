// The stem of a ResNet: [input_bn →] conv → bn → ReLU [→ 3×3/2 max pool].
//   imagenet:     conv 7×7/2 pad 3, max pool 3×3/2 pad 1 (output stride 4)
//   cifar, small_image: conv 3×3/1 pad 1, no pool (output stride 1)
// With pre-activation an `input_bn` (MXNet's bn_data) normalises the raw input first; as MXNet's
// fix_gamma its scale stays 1 (its weight does not require a gradient). The stem itself stays
// post-activated (conv0 → bn0 → relu0 as in MXNet's ImageNet ResNet v2), the units after it
// pre-activate again. Names: input_bn, conv, bn.
#pragma once

#include <memory>

#include "framework/nn/module.h"
#include "models/backbones/resnet_options.h"

namespace osprey::models {

class ResNetStem : public nn::Module {
 public:
  explicit ResNetStem(const ResNetOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;
  int64_t out_channels() const { return out_channels_; }
  int64_t stride() const { return type_ == StemType::imagenet ? 4 : 1; }

 private:
  StemType type_;
  int64_t out_channels_;
  std::shared_ptr<nn::Module> input_bn_, conv_, bn_;
};

}  // namespace osprey::models
