#include "framework/nn/layers/batch_norm.h"

#include "framework/autograd/grad_mode.h"
#include "ops/ops.h"

namespace osprey::nn {

BatchNorm2d::BatchNorm2d(const BatchNormOptions& options) : options_(options) {
  OSPREY_CHECK_KIND(value, options.num_features > 0,
                    "BatchNorm2d: num_features must be > 0, got {}", options.num_features);
  const Shape channels{options.num_features};
  if (options.affine) {
    weight = ops::ones(channels);
    bias = ops::zeros(channels);
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
  running_mean = ops::zeros(channels);
  running_var = ops::ones(channels);
  num_batches_tracked = ops::zeros({}, DType::i64);
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
  register_buffer("num_batches_tracked", &num_batches_tracked);
}

Tensor BatchNorm2d::forward(const Tensor& input) {
  return normalise(input, false);
}

Tensor BatchNorm2d::forward_relu(const Tensor& input) {
  return run_forward_hooks(input, normalise(input, true));
}

Tensor BatchNorm2d::normalise(const Tensor& input, bool relu) {
  OSPREY_CHECK_KIND(shape, input.dim() == 4 && input.shape()[1] == options_.num_features,
                    "{}: expects N x {} x H x W input, got {}", describe(), options_.num_features,
                    shape_str(input.shape()));
  if (is_training()) {
    autograd::NoGradGuard no_grad;
    ops::affine_(num_batches_tracked, 1.0, 1.0);  // stays on the device: no host sync
  }
  return ops::batch_norm(input, weight, bias, running_mean, running_var, is_training(),
                         options_.momentum, options_.eps, relu)
      .output;
}

std::string BatchNorm2d::describe() const {
  return fmt::format("BatchNorm2d({}, eps={}, momentum={})", options_.num_features, options_.eps,
                     options_.momentum);
}

FrozenBatchNorm2d::FrozenBatchNorm2d(int64_t num_features, double eps)
    : num_features_(num_features), eps_(eps) {
  OSPREY_CHECK_KIND(value, num_features > 0, "FrozenBatchNorm2d: num_features must be > 0, got {}",
                    num_features);
  weight = ops::ones({num_features});
  bias = ops::zeros({num_features});
  running_mean = ops::zeros({num_features});
  running_var = ops::ones({num_features});
  register_buffer("weight", &weight);
  register_buffer("bias", &bias);
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
}

Tensor FrozenBatchNorm2d::forward(const Tensor& input) {
  OSPREY_CHECK_KIND(shape, input.dim() == 4 && input.shape()[1] == num_features_,
                    "{}: expects N x {} x H x W input, got {}", describe(), num_features_,
                    shape_str(input.shape()));
  Tensor scale, shift;
  {
    autograd::NoGradGuard no_grad;
    scale = ops::div(weight, ops::sqrt(ops::affine(running_var, 1.0, eps_)));
    shift = ops::sub(bias, ops::mul(running_mean, scale));
  }
  return ops::frozen_batch_norm(input, scale.to(input.dtype()), shift.to(input.dtype()));
}

std::string FrozenBatchNorm2d::describe() const {
  return fmt::format("FrozenBatchNorm2d({}, eps={})", num_features_, eps_);
}

}  // namespace osprey::nn
