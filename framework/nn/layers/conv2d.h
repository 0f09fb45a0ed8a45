// Conv2d: the conv2d op with its weight (out, in/groups, kH, kW) and optional bias (out).
// Initialised as PyTorch's nn.Conv2d: weight kaiming_uniform with a = sqrt(5) (bound
// 1/sqrt(fan_in)), bias U(−1/sqrt(fan_in), 1/sqrt(fan_in)); builders usually re-initialise.
#pragma once

#include <vector>

#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace osprey::nn {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  std::vector<int64_t> kernel_size{3, 3};  // one or two values
  std::vector<int64_t> stride{1, 1};
  std::vector<int64_t> padding{0, 0};
  std::vector<int64_t> dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dOptions& options,
                  random::Generator& generator = random::default_generator());
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;
  const Conv2dOptions& options() const { return options_; }

  Tensor weight;
  Tensor bias;

 private:
  Conv2dOptions options_;
};

// Expands a one-value list to two (kernel/stride/padding/dilation accept either), with an error
// naming `what` otherwise.
std::vector<int64_t> pair_of(const std::vector<int64_t>& values, const char* what);

}  // namespace osprey::nn
