// AdamW: argument checks and the call of the adamw_update op (see adamw.h).
#include "framework/optim/adamw.h"

#include "framework/dispatch/registry.h"

namespace osprey::optim {
namespace {

const AdamWOptions& checked(const AdamWOptions& o) {
  OSPREY_CHECK(o.beta1 >= 0.0 && o.beta1 < 1.0, "adamw: beta1 {} must lie in [0, 1)", o.beta1);
  OSPREY_CHECK(o.beta2 >= 0.0 && o.beta2 < 1.0, "adamw: beta2 {} must lie in [0, 1)", o.beta2);
  OSPREY_CHECK(o.eps >= 0.0, "adamw: eps {} must be >= 0", o.eps);
  OSPREY_CHECK(o.weight_decay >= 0.0, "adamw: weight_decay {} must be >= 0", o.weight_decay);
  return o;
}

}  // namespace

AdamW::AdamW(const NamedParameters& params, const AdamWOptions& options,
             const ParamGroupOptions& groups)
    : Optimizer("adamw", params, groups, checked(options).lr, {"exp_avg", "exp_avg_sq"}),
      options_(options) {}

void AdamW::update(const std::vector<size_t>& indices, const std::vector<Tensor>& grads) {
  std::vector<Tensor> params_in, exp_avgs, exp_avg_sqs;
  std::vector<double> lr, weight_decay;
  std::vector<int64_t> steps;
  for (size_t i : indices) {
    const OptimParam& p = params()[i];
    params_in.push_back(p.tensor.detach());
    lr.push_back(this->lr() * p.lr_mult);
    weight_decay.push_back(options_.weight_decay * p.decay_mult);
    steps.push_back(param_step(i));
    for (size_t k = 0; k < 2; ++k) {
      Tensor& s = slot(k, i);
      if (!s.defined()) {
        s = new_state_like(p.tensor);
        s.zero_();
      }
    }
    exp_avgs.push_back(slot(0, i));
    exp_avg_sqs.push_back(slot(1, i));
  }
  std::vector<Tensor> inputs = std::move(params_in);
  for (const auto& group : {grads, exp_avgs, exp_avg_sqs}) {
    inputs.insert(inputs.end(), group.begin(), group.end());
  }
  dispatch::call("adamw_update", std::move(inputs),
                 dispatch::Attrs{{"lr", lr},
                                 {"weight_decay", weight_decay},
                                 {"step", steps},
                                 {"beta1", options_.beta1},
                                 {"beta2", options_.beta2},
                                 {"eps", options_.eps}});
}

}  // namespace osprey::optim
