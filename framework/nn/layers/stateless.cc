#include "framework/nn/layers/stateless.h"

#include "ops/ops.h"

namespace osprey::nn {

Tensor ReLU::forward(const Tensor& input) {
  return ops::relu(input);
}

Dropout::Dropout(double p, random::Generator& generator) : p_(p), generator_(&generator) {
  OSPREY_CHECK_KIND(value, p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor& input) {
  return ops::dropout(input, p_, is_training(), *generator_);
}

std::string Dropout::describe() const {
  return fmt::format("Dropout(p={})", p_);
}

Tensor MaxPool2d::forward(const Tensor& input) {
  return ops::max_pool2d(input, options_.kernel_size, options_.stride, options_.padding, {1, 1},
                         options_.ceil_mode)
      .first;
}

std::string MaxPool2d::describe() const {
  return fmt::format("MaxPool2d(kernel={}, stride={}, padding={}, ceil_mode={})",
                     options_.kernel_size[0],
                     options_.stride.empty() ? options_.kernel_size[0] : options_.stride[0],
                     options_.padding[0], options_.ceil_mode);
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return ops::avg_pool2d(input, options_.kernel_size, options_.stride, options_.padding,
                         options_.ceil_mode);
}

std::string AvgPool2d::describe() const {
  return fmt::format("AvgPool2d(kernel={}, stride={}, padding={})", options_.kernel_size[0],
                     options_.stride.empty() ? options_.kernel_size[0] : options_.stride[0],
                     options_.padding[0]);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  return ops::adaptive_avg_pool2d(input, output_size_);
}

std::string AdaptiveAvgPool2d::describe() const {
  return fmt::format("AdaptiveAvgPool2d({}x{})", output_size_.at(0), output_size_.at(1));
}

Tensor Flatten::forward(const Tensor& input) {
  return input.flatten(start_dim_, end_dim_);
}

}  // namespace osprey::nn
