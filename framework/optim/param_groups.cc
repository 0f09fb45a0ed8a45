// Multiplier resolution by name and the optimiser's parameter list (see param_groups.h).
#include "framework/optim/param_groups.h"

#include <set>

#include "framework/nn/name_pattern.h"

namespace osprey::optim {

Multipliers resolve_multipliers(const std::string& name, int64_t dim,
                                const ParamGroupOptions& options) {
  Multipliers m;
  for (const auto& rule : options.rules) {
    if (nn::name_matches(rule.pattern, name)) m = {rule.lr_mult, rule.decay_mult};
  }
  if (options.no_decay_on_norm_and_bias && dim < 2) m.decay_mult = 0.0;
  return m;
}

std::vector<OptimParam> make_optim_params(const NamedParameters& params,
                                          const ParamGroupOptions& options) {
  for (const auto& rule : options.rules) {
    OSPREY_CHECK(rule.lr_mult >= 0.0 && rule.decay_mult >= 0.0,
                 "optimizer: rule '{}' has lr_mult {} and decay_mult {}; both must be >= 0",
                 rule.pattern, rule.lr_mult, rule.decay_mult);
  }
  std::vector<OptimParam> out;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : params) {
    OSPREY_CHECK(tensor.defined(), "optimizer: parameter '{}' is an undefined tensor", name);
    OSPREY_CHECK(seen.insert(name).second, "optimizer: parameter name '{}' appears twice", name);
    if (!tensor.requires_grad()) continue;  // frozen
    OSPREY_CHECK_KIND(dtype, is_floating(tensor.dtype()),
                      "optimizer: parameter '{}' is {}; parameters must be floating", name,
                      tensor.describe());
    OSPREY_CHECK(tensor.is_leaf(),
                 "optimizer: parameter '{}' ({}) is not a leaf tensor; optimise the tensor that "
                 "owns the gradient",
                 name, tensor.describe());
    const Multipliers m = resolve_multipliers(name, tensor.dim(), options);
    out.push_back({name, tensor, m.lr_mult, m.decay_mult});
  }
  return out;
}

}  // namespace osprey::optim
