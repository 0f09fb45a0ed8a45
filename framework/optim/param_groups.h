// Per-parameter learning-rate and weight-decay multipliers (Caffe's lr_mult / decay_mult), chosen
// by the parameter's dotted name, and the list of parameters an optimiser updates.
//
// Resolution, for a parameter named `name` with `dim` dimensions:
//   1. lr_mult = decay_mult = 1;
//   2. every rule whose glob pattern matches the whole name (osprey::nn::name_matches: `*` spans
//      dots) sets both multipliers, in list order, so a later rule overrides an earlier one;
//   3. with no_decay_on_norm_and_bias, every parameter with fewer than 2 dimensions gets
//      decay_mult 0, whatever the rules said. In the models of this project the 1-d parameters are
//      exactly the normalisation layers' weight and bias and the conv/linear biases (weights are
//      2-d or 4-d), the ones that common recipes exclude from L2 decay.
// Frozen parameters (requires_grad false) are not given to the optimiser at all.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::optim {

using NamedParameters = std::vector<std::pair<std::string, Tensor>>;

struct ParamRule {
  std::string pattern;  // glob over dotted names, e.g. "backbone.*" or "*.bias"
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

struct ParamGroupOptions {
  std::vector<ParamRule> rules{};  // applied in order; later rules override earlier ones
  bool no_decay_on_norm_and_bias = false;
};

struct Multipliers {
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

// The multipliers of one parameter (see the file comment).
Multipliers resolve_multipliers(const std::string& name, int64_t dim,
                                const ParamGroupOptions& options);

// One parameter as the optimiser holds it.
struct OptimParam {
  std::string name;
  Tensor tensor;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

// The trainable parameters (requires_grad) with their multipliers, in the given order. Errors on
// duplicate names, undefined tensors, non-floating tensors and non-leaf tensors, and on rules
// with negative multipliers.
std::vector<OptimParam> make_optim_params(const NamedParameters& params,
                                          const ParamGroupOptions& options);

}  // namespace osprey::optim
