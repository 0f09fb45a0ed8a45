// Linear: y = x Wᵀ + b with weight (out, in) and optional bias (out); PyTorch's default
// initialisation (kaiming_uniform a = sqrt(5), bias U(±1/sqrt(in))).
#pragma once

#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace osprey::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true,
         random::Generator& generator = random::default_generator());
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;

  Tensor weight;
  Tensor bias;

 private:
  int64_t in_features_;
  int64_t out_features_;
};

}  // namespace osprey::nn
