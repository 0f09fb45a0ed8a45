// DeformConv2d: a deformable convolution (DCNv1, or DCNv2 with modulation) with the conv that
// predicts its sampling offsets, as one module.
//
//   o = conv_offset(x)                       (same kernel, stride, padding, dilation as the conv)
//   v1: offset = o                            (2·G·K channels, K = kH·kW, G = offset_groups)
//   v2: offset = o[:, :2·G·K], mask = mask_scale · sigmoid(o[:, 2·G·K:])   (3·G·K channels)
//   y = deform_conv2d(x, offset, weight, bias, mask; stride, padding, dilation, groups, boundary)
//
// conv_offset's weight and bias start at zero, so at initialisation every tap samples its regular
// grid point. mask_scale defaults to 2 (msracver's DCNv2: the mask starts at 2·sigmoid(0) = 1), so
// a fresh DeformConv2d computes exactly the plain convolution with its weight — a backbone can
// load ImageNet weights of a plain ResNet and start from the same function. mask_scale = 1 gives
// the torchvision/mmcv packs' convention (mask starts at 0.5). Parameter names: weight, bias (when
// enabled), conv_offset.weight, conv_offset.bias.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/nn/layers/conv2d.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace osprey::nn {

struct DeformConv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  std::vector<int64_t> kernel_size{3, 3};  // one or two values, as Conv2d's
  std::vector<int64_t> stride{1, 1};
  std::vector<int64_t> padding{1, 1};
  std::vector<int64_t> dilation{1, 1};
  int64_t groups = 1;
  int64_t offset_groups = 1;  // G: input channels are split into G groups, each with its offsets
  bool bias = false;
  bool modulated = true;  // DCNv2 (a predicted mask); false: DCNv1
  double mask_scale = 2.0;
  // Sampling rule at the map border, see ops/deform_conv2d: "torchvision" or "mxnet_v1".
  std::string boundary = "torchvision";
};

class DeformConv2d : public Module {
 public:
  // weight and bias are initialised as Conv2d's (builders usually re-initialise weight);
  // conv_offset is zero.
  explicit DeformConv2d(const DeformConv2dOptions& options,
                        random::Generator& generator = random::default_generator());
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;
  const DeformConv2dOptions& options() const { return options_; }

  Tensor weight;
  Tensor bias;
  std::shared_ptr<Conv2d> conv_offset;

 private:
  DeformConv2dOptions options_;
};

}  // namespace osprey::nn
