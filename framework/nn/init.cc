#include "framework/nn/init.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "ops/random/random.h"

namespace osprey::nn::init {

Fans compute_fans(const Tensor& tensor) {
  const Shape& shape = tensor.shape();
  OSPREY_CHECK_KIND(shape, !shape.empty() && tensor.numel() > 0,
                    "init: fans need a non-empty tensor of rank >= 1, got {}", shape_str(shape));
  if (shape.size() == 1) return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

double gain(const std::string& nonlinearity, double negative_slope) {
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "linear" || nonlinearity == "identity" || nonlinearity == "sigmoid" ||
      nonlinearity == "conv2d")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  OSPREY_THROW(value, "init: unknown nonlinearity '{}' (relu, leaky_relu, tanh, sigmoid, linear)",
               nonlinearity);
}

void constant_(Tensor& tensor, double value) {
  autograd::NoGradGuard no_grad;
  tensor.fill_(value);
}

void normal_(Tensor& tensor, double mean, double std, random::Generator& generator) {
  autograd::NoGradGuard no_grad;
  tensor.copy_(ops::normal(tensor.shape(), mean, std, generator, tensor.dtype(), tensor.device()));
}

void uniform_(Tensor& tensor, double low, double high, random::Generator& generator) {
  autograd::NoGradGuard no_grad;
  tensor.copy_(ops::uniform(tensor.shape(), low, high, generator, tensor.dtype(), tensor.device()));
}

namespace {

double fan_of(const Tensor& tensor, FanMode mode) {
  const Fans fans = compute_fans(tensor);
  return static_cast<double>(mode == FanMode::fan_in ? fans.fan_in : fans.fan_out);
}

}  // namespace

void kaiming_normal_(Tensor& tensor, FanMode mode, const std::string& nonlinearity,
                     double negative_slope, random::Generator& generator) {
  const double std = gain(nonlinearity, negative_slope) / std::sqrt(fan_of(tensor, mode));
  normal_(tensor, 0.0, std, generator);
}

void kaiming_uniform_(Tensor& tensor, FanMode mode, const std::string& nonlinearity,
                      double negative_slope, random::Generator& generator) {
  const double bound = gain(nonlinearity, negative_slope) * std::sqrt(3.0 / fan_of(tensor, mode));
  uniform_(tensor, -bound, bound, generator);
}

void xavier_normal_(Tensor& tensor, double gain, random::Generator& generator) {
  const Fans fans = compute_fans(tensor);
  normal_(tensor, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out)),
          generator);
}

void xavier_uniform_(Tensor& tensor, double gain, random::Generator& generator) {
  const Fans fans = compute_fans(tensor);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  uniform_(tensor, -bound, bound, generator);
}

}  // namespace osprey::nn::init
