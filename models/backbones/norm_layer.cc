#include "models/backbones/norm_layer.h"

#include "framework/nn/init.h"
#include "framework/nn/layers/batch_norm.h"
#include "ops/activation/activation.h"

namespace osprey::models {

std::shared_ptr<nn::Module> make_norm(const NormOptions& options, int64_t channels) {
  if (options.type == NormType::frozen_batch_norm)
    return std::make_shared<nn::FrozenBatchNorm2d>(channels, options.eps);
  nn::BatchNormOptions bn;
  bn.num_features = channels;
  bn.eps = options.eps;
  bn.momentum = options.momentum;
  return std::make_shared<nn::BatchNorm2d>(bn);
}

Tensor norm_relu(nn::Module& norm, const Tensor& input) {
  if (auto* batch_norm = dynamic_cast<nn::BatchNorm2d*>(&norm))
    return batch_norm->forward_relu(input);
  return ops::relu(norm(input));
}

void zero_norm_scale(nn::Module& norm) {
  for (const auto& group : {norm.named_parameters(false), norm.named_buffers(false)})
    for (auto [name, tensor] : group)
      if (name == "weight") nn::init::constant_(tensor, 0.0);
}

}  // namespace osprey::models
