#include "framework/nn/layers/conv2d.h"

#include <cmath>

#include "framework/nn/init.h"
#include "ops/conv2d/conv2d.h"

namespace osprey::nn {

std::vector<int64_t> pair_of(const std::vector<int64_t>& values, const char* what) {
  if (values.size() == 1) return {values[0], values[0]};
  OSPREY_CHECK_KIND(value, values.size() == 2, "{} takes one or two values, got {}", what,
                    values.size());
  return values;
}

Conv2d::Conv2d(const Conv2dOptions& options, random::Generator& generator) : options_(options) {
  options_.kernel_size = pair_of(options.kernel_size, "Conv2d kernel_size");
  options_.stride = pair_of(options.stride, "Conv2d stride");
  options_.padding = pair_of(options.padding, "Conv2d padding");
  options_.dilation = pair_of(options.dilation, "Conv2d dilation");
  OSPREY_CHECK_KIND(value,
                    options.in_channels > 0 && options.out_channels > 0 && options.groups > 0 &&
                        options.in_channels % options.groups == 0 &&
                        options.out_channels % options.groups == 0,
                    "Conv2d: in_channels {} and out_channels {} must be positive multiples of "
                    "groups {}",
                    options.in_channels, options.out_channels, options.groups);
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
}

Tensor Conv2d::forward(const Tensor& input) {
  return ops::conv2d(input, weight, bias, options_.stride, options_.padding, options_.dilation,
                     options_.groups);
}

std::string Conv2d::describe() const {
  return fmt::format("Conv2d({}, {}, kernel={}x{}, stride={}, padding={}, dilation={}, groups={})",
                     options_.in_channels, options_.out_channels, options_.kernel_size[0],
                     options_.kernel_size[1], options_.stride[0], options_.padding[0],
                     options_.dilation[0], options_.groups);
}

}  // namespace osprey::nn
