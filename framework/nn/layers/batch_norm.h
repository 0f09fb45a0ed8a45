// BatchNorm2d (batch statistics in training with running-stat updates, running statistics in
// eval; PyTorch's momentum convention: SNIPER/MXNet's 0.995 is momentum 0.005 here) and
// FrozenBatchNorm2d (statistics and affine fixed: the detectors' usual choice for small
// per-device batches). Both keep the same four names — weight, bias, running_mean, running_var —
// so checkpoints move between them; BatchNorm2d also has num_batches_tracked (i64) as PyTorch.
#pragma once

#include "framework/nn/module.h"

namespace osprey::nn {

struct BatchNormOptions {
  int64_t num_features = 0;
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
};

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(const BatchNormOptions& options);
  Tensor forward(const Tensor& input) override;
  // relu(forward(input)) as one fused op (hooks see the rectified output).
  Tensor forward_relu(const Tensor& input);
  std::string describe() const override;
  const BatchNormOptions& options() const { return options_; }

  Tensor weight;
  Tensor bias;
  Tensor running_mean;
  Tensor running_var;
  Tensor num_batches_tracked;

 private:
  Tensor normalise(const Tensor& input, bool relu);
  BatchNormOptions options_;
};

// y = x · scale + shift with scale = weight / sqrt(running_var + eps), shift = bias −
// running_mean · scale, recomputed each call from the (frozen, never trained) tensors. Its
// tensors are buffers, not parameters: nothing here is trained.
class FrozenBatchNorm2d : public Module {
 public:
  explicit FrozenBatchNorm2d(int64_t num_features, double eps = 1e-5);
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;

  Tensor weight;
  Tensor bias;
  Tensor running_mean;
  Tensor running_var;

 private:
  int64_t num_features_;
  double eps_;
};

}  // namespace osprey::nn
