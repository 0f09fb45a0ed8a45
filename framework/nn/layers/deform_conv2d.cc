#include "framework/nn/layers/deform_conv2d.h"

#include <cmath>

#include "framework/nn/init.h"
#include "ops/activation/activation.h"
#include "ops/deform_conv2d/deform_conv2d.h"
#include "ops/elementwise/elementwise.h"

namespace osprey::nn {

DeformConv2d::DeformConv2d(const DeformConv2dOptions& options, random::Generator& generator)
    : options_(options) {
  options_.kernel_size = pair_of(options.kernel_size, "DeformConv2d kernel_size");
  options_.stride = pair_of(options.stride, "DeformConv2d stride");
  options_.padding = pair_of(options.padding, "DeformConv2d padding");
  options_.dilation = pair_of(options.dilation, "DeformConv2d dilation");
  OSPREY_CHECK_KIND(value,
                    options.in_channels > 0 && options.out_channels > 0 && options.groups > 0 &&
                        options.in_channels % options.groups == 0 &&
                        options.out_channels % options.groups == 0,
                    "DeformConv2d: in_channels {} and out_channels {} must be positive multiples "
                    "of groups {}",
                    options.in_channels, options.out_channels, options.groups);
  OSPREY_CHECK_KIND(value,
                    options.offset_groups > 0 && options.in_channels % options.offset_groups == 0,
                    "DeformConv2d: offset_groups {} must be positive and divide in_channels {}",
                    options.offset_groups, options.in_channels);
  OSPREY_CHECK_KIND(value, options.boundary == "torchvision" || options.boundary == "mxnet_v1",
                    "DeformConv2d: boundary must be \"torchvision\" or \"mxnet_v1\", got \"{}\"",
                    options.boundary);
  const int64_t taps = options_.kernel_size[0] * options_.kernel_size[1];
  weight = Tensor::empty({options_.out_channels, options_.in_channels / options_.groups,
                          options_.kernel_size[0], options_.kernel_size[1]});
  init::kaiming_uniform_(weight, init::FanMode::fan_in, "leaky_relu", std::sqrt(5.0), generator);
  register_parameter("weight", &weight);
  if (options_.bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::compute_fans(weight).fan_in));
    bias = Tensor::empty({options_.out_channels});
    init::uniform_(bias, -bound, bound, generator);
    register_parameter("bias", &bias);
  }
  Conv2dOptions offset_options;
  offset_options.in_channels = options_.in_channels;
  offset_options.out_channels = (options_.modulated ? 3 : 2) * options_.offset_groups * taps;
  offset_options.kernel_size = options_.kernel_size;
  offset_options.stride = options_.stride;
  offset_options.padding = options_.padding;
  offset_options.dilation = options_.dilation;
  offset_options.bias = true;
  conv_offset = register_module("conv_offset", std::make_shared<Conv2d>(offset_options, generator));
  init::constant_(conv_offset->weight, 0.0);
  init::constant_(conv_offset->bias, 0.0);
}

Tensor DeformConv2d::forward(const Tensor& input) {
  const Tensor predicted = (*conv_offset)(input);
  Tensor offset = predicted;
  Tensor mask;
  if (options_.modulated) {
    const int64_t offset_channels =
        2 * options_.offset_groups * options_.kernel_size[0] * options_.kernel_size[1];
    offset = predicted.narrow(1, 0, offset_channels);
    mask = ops::affine(ops::sigmoid(predicted.narrow(1, offset_channels, offset_channels / 2)),
                       options_.mask_scale);
  }
  return ops::deform_conv2d(input, offset, weight, bias, mask, options_.stride, options_.padding,
                            options_.dilation, options_.groups, options_.boundary);
}

std::string DeformConv2d::describe() const {
  return fmt::format(
      "DeformConv2d({}, {}, kernel={}x{}, stride={}, padding={}, dilation={}, groups={}, "
      "offset_groups={}, {}, boundary={})",
      options_.in_channels, options_.out_channels, options_.kernel_size[0], options_.kernel_size[1],
      options_.stride[0], options_.padding[0], options_.dilation[0], options_.groups,
      options_.offset_groups, options_.modulated ? "v2" : "v1", options_.boundary);
}

}  // namespace osprey::nn
