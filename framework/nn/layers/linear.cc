#include "framework/nn/layers/linear.h"

#include <cmath>

#include "framework/nn/init.h"
#include "ops/matmul/matmul.h"

namespace osprey::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias_term,
               random::Generator& generator)
    : in_features_(in_features), out_features_(out_features) {
  OSPREY_CHECK_KIND(value, in_features > 0 && out_features > 0,
                    "Linear: features must be > 0, got in {} out {}", in_features, out_features);
  weight = Tensor::empty({out_features, in_features});
  init::kaiming_uniform_(weight, init::FanMode::fan_in, "leaky_relu", std::sqrt(5.0), generator);
  register_parameter("weight", &weight);
  if (bias_term) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias = Tensor::empty({out_features});
    init::uniform_(bias, -bound, bound, generator);
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& input) {
  OSPREY_CHECK_KIND(shape, input.dim() >= 1 && input.shape().back() == in_features_,
                    "{}: expects (..., {}) input, got {}", describe(), in_features_,
                    shape_str(input.shape()));
  return ops::linear(input, weight, bias);
}

std::string Linear::describe() const {
  return fmt::format("Linear({}, {}, bias={})", in_features_, out_features_, bias.defined());
}

}  // namespace osprey::nn
