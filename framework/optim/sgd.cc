// SGD: argument checks and the call of the sgd_update op (see sgd.h).
#include "framework/optim/sgd.h"

#include "framework/dispatch/registry.h"

namespace osprey::optim {
namespace {

std::vector<std::string> sgd_slots(const SgdOptions& options) {
  if (options.momentum != 0.0) return {"momentum_buffer"};
  return {};
}

const SgdOptions& checked(const SgdOptions& o) {
  OSPREY_CHECK(o.momentum >= 0.0, "sgd: momentum {} must be >= 0", o.momentum);
  OSPREY_CHECK(o.dampening >= 0.0, "sgd: dampening {} must be >= 0", o.dampening);
  OSPREY_CHECK(o.weight_decay >= 0.0, "sgd: weight_decay {} must be >= 0", o.weight_decay);
  OSPREY_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0),
               "sgd: nesterov momentum needs momentum > 0 and dampening 0 (got momentum {}, "
               "dampening {})",
               o.momentum, o.dampening);
  return o;
}

}  // namespace

Sgd::Sgd(const NamedParameters& params, const SgdOptions& options, const ParamGroupOptions& groups)
    : Optimizer("sgd", params, groups, checked(options).lr, sgd_slots(options)),
      options_(options) {}

void Sgd::update(const std::vector<size_t>& indices, const std::vector<Tensor>& grads) {
  const bool with_momentum = options_.momentum != 0.0;
  std::vector<Tensor> inputs, buffers;
  std::vector<double> lr, weight_decay;
  std::vector<int64_t> new_buffer;
  for (size_t i : indices) {
    const OptimParam& p = params()[i];
    inputs.push_back(p.tensor.detach());
    lr.push_back(this->lr() * p.lr_mult);
    weight_decay.push_back(options_.weight_decay * p.decay_mult);
    if (with_momentum) {
      const Tensor& b = slot(0, i);
      new_buffer.push_back(b.defined() ? 0 : 1);
      buffers.push_back(b.defined() ? b : new_state_like(p.tensor));
    }
  }
  inputs.insert(inputs.end(), grads.begin(), grads.end());
  inputs.insert(inputs.end(), buffers.begin(), buffers.end());
  dispatch::call("sgd_update", std::move(inputs),
                 dispatch::Attrs{{"lr", lr},
                                 {"weight_decay", weight_decay},
                                 {"momentum", options_.momentum},
                                 {"dampening", options_.dampening},
                                 {"nesterov", options_.nesterov},
                                 {"new_buffer", new_buffer}});
  // New buffers become state only once the update has written them.
  for (size_t k = 0; k < buffers.size(); ++k) slot(0, indices[k]) = buffers[k];
}

}  // namespace osprey::optim
