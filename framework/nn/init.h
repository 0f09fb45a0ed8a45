// Weight initialisers, in place and under no-grad, drawing from a seeded Generator so a model's
// initial weights are a function of the seed. Fans follow PyTorch: for a weight of shape
// (out, in, k...) fan_in = in · prod(k), fan_out = out · prod(k); a 1-d tensor has fan_in =
// fan_out = its size.
//
//   kaiming_normal:   N(0, std²),  std = gain / sqrt(fan),        gain = sqrt(2) for relu, 1 linear
//   kaiming_uniform:  U(−b, b),    b = gain · sqrt(3 / fan)
//   xavier_normal:    N(0, std²),  std = gain · sqrt(2 / (fan_in + fan_out))
//   xavier_uniform:   U(−b, b),    b = gain · sqrt(6 / (fan_in + fan_out))
#pragma once

#include <string>

#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace osprey::nn::init {

enum class FanMode { fan_in, fan_out };

struct Fans {
  int64_t fan_in;
  int64_t fan_out;
};
Fans compute_fans(const Tensor& tensor);

// "relu" → sqrt(2), "linear"/"identity"/"sigmoid" → 1, "tanh" → 5/3, "leaky_relu" with slope a →
// sqrt(2 / (1 + a²)). Unknown names are an error.
double gain(const std::string& nonlinearity, double negative_slope = 0.0);

void constant_(Tensor& tensor, double value);
void normal_(Tensor& tensor, double mean, double std,
             random::Generator& generator = random::default_generator());
void uniform_(Tensor& tensor, double low, double high,
              random::Generator& generator = random::default_generator());
void kaiming_normal_(Tensor& tensor, FanMode mode = FanMode::fan_in,
                     const std::string& nonlinearity = "relu", double negative_slope = 0.0,
                     random::Generator& generator = random::default_generator());
void kaiming_uniform_(Tensor& tensor, FanMode mode = FanMode::fan_in,
                      const std::string& nonlinearity = "relu", double negative_slope = 0.0,
                      random::Generator& generator = random::default_generator());
void xavier_normal_(Tensor& tensor, double gain = 1.0,
                    random::Generator& generator = random::default_generator());
void xavier_uniform_(Tensor& tensor, double gain = 1.0,
                     random::Generator& generator = random::default_generator());

}  // namespace osprey::nn::init
