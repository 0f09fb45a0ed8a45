#include "models/backbones/conv_layers.h"

#include "framework/nn/layers/conv2d.h"
#include "framework/nn/layers/deform_conv2d.h"
#include "framework/random/generator.h"

namespace osprey::models {

// The layers' own initialisation is overwritten by the ResNet builder; drawing it from a
// throwaway generator keeps the default generator untouched by model construction.
std::shared_ptr<nn::Module> make_conv3x3(int64_t in_channels, int64_t out_channels, int64_t stride,
                                         int64_t dilation,
                                         const std::optional<DeformableStageOptions>& deformable) {
  if (deformable) {
    nn::DeformConv2dOptions options;
    options.in_channels = in_channels;
    options.out_channels = out_channels;
    options.kernel_size = {3, 3};
    options.stride = {stride, stride};
    options.padding = {dilation, dilation};
    options.dilation = {dilation, dilation};
    options.offset_groups = deformable->offset_groups;
    options.bias = false;
    options.modulated = deformable->version == 2;
    options.mask_scale = deformable->mask_scale;
    options.boundary = deformable->boundary;
    random::Generator scratch(0);
    return std::make_shared<nn::DeformConv2d>(options, scratch);
  }
  nn::Conv2dOptions options;
  options.in_channels = in_channels;
  options.out_channels = out_channels;
  options.kernel_size = {3, 3};
  options.stride = {stride, stride};
  options.padding = {dilation, dilation};
  options.dilation = {dilation, dilation};
  options.bias = false;
  random::Generator scratch(0);
  return std::make_shared<nn::Conv2d>(options, scratch);
}

std::shared_ptr<nn::Module> make_conv1x1(int64_t in_channels, int64_t out_channels,
                                         int64_t stride) {
  nn::Conv2dOptions options;
  options.in_channels = in_channels;
  options.out_channels = out_channels;
  options.kernel_size = {1, 1};
  options.stride = {stride, stride};
  options.padding = {0, 0};
  options.bias = false;
  random::Generator scratch(0);
  return std::make_shared<nn::Conv2d>(options, scratch);
}

}  // namespace osprey::models
