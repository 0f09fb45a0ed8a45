// Stepping, gradient reset and state save/restore shared by every optimiser (see optimizer.h).
#include "framework/optim/optimizer.h"

#include <cmath>
#include <set>

#include "framework/autograd/grad_mode.h"

namespace osprey::optim {

Optimizer::Optimizer(std::string kind, const NamedParameters& params,
                     const ParamGroupOptions& groups, double lr,
                     std::vector<std::string> slot_names)
    : kind_(std::move(kind)),
      params_(make_optim_params(params, groups)),
      param_steps_(params_.size(), 0),
      slot_names_(std::move(slot_names)),
      slots_(slot_names_.size(), std::vector<Tensor>(params_.size())) {
  set_lr(lr);
}

Tensor Optimizer::new_state_like(const Tensor& param) {
  const bool channels_last = param.dim() == 4 && !param.is_contiguous() &&
                             param.is_contiguous(MemoryFormat::channels_last);
  return Tensor::empty(param.shape(), param.dtype(), param.device(),
                       channels_last ? MemoryFormat::channels_last : MemoryFormat::contiguous);
}

void Optimizer::set_lr(double lr) {
  OSPREY_CHECK(std::isfinite(lr) && lr >= 0.0, "{}: learning rate {} must be finite and >= 0",
               kind_, lr);
  lr_ = lr;
}

void Optimizer::step() {
  autograd::NoGradGuard no_grad;
  // One update call per device, parameters in their list order.
  std::vector<Device> devices;
  std::vector<std::vector<size_t>> indices;
  std::vector<std::vector<Tensor>> grads;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].tensor;
    Tensor g = p.grad();
    if (!g.defined()) continue;
    OSPREY_CHECK_KIND(shape,
                      g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(),
                      "{}: gradient {} of parameter '{}' does not match the parameter {}", kind_,
                      g.describe(), params_[i].name, p.describe());
    size_t d = 0;
    while (d < devices.size() && devices[d] != p.device()) ++d;
    if (d == devices.size()) {
      devices.push_back(p.device());
      indices.emplace_back();
      grads.emplace_back();
    }
    indices[d].push_back(i);
    grads[d].push_back(g);
  }
  for (size_t d = 0; d < devices.size(); ++d) {
    for (size_t i : indices[d]) ++param_steps_[i];
    try {
      update(indices[d], grads[d]);
    } catch (...) {
      for (size_t i : indices[d]) --param_steps_[i];  // the update did not happen
      throw;
    }
  }
  ++steps_;
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.tensor.zero_grad();
}

OptimizerState Optimizer::state() const {
  OptimizerState s;
  s.kind = kind_;
  s.counters["steps"] = steps_;
  for (size_t i = 0; i < params_.size(); ++i) {
    s.counters["step/" + params_[i].name] = param_steps_[i];
    for (size_t k = 0; k < slot_names_.size(); ++k) {
      if (slots_[k][i].defined()) {
        s.tensors[slot_names_[k] + "/" + params_[i].name] = slots_[k][i].detach();
      }
    }
  }
  return s;
}

void Optimizer::load_state(const OptimizerState& s) {
  OSPREY_CHECK(s.kind == kind_, "{}: cannot load the state of a '{}' optimizer", kind_, s.kind);
  auto counter = [&](const std::string& name) {
    auto it = s.counters.find(name);
    OSPREY_CHECK_KIND(not_found, it != s.counters.end(),
                      "{}: optimizer state has no counter '{}' (it holds {} counters)", kind_, name,
                      s.counters.size());
    OSPREY_CHECK(it->second >= 0, "{}: optimizer state counter '{}' is negative ({})", kind_, name,
                 it->second);
    return it->second;
  };
  // Check everything, then build the new values, then swap them in.
  const int64_t steps = counter("steps");
  std::set<std::string> used_counters{"steps"}, used_tensors;
  std::vector<int64_t> param_steps(params_.size());
  std::vector<std::vector<Tensor>> slots(slot_names_.size(), std::vector<Tensor>(params_.size()));
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].name;
    const Tensor& p = params_[i].tensor;
    param_steps[i] = counter("step/" + name);
    used_counters.insert("step/" + name);
    for (size_t k = 0; k < slot_names_.size(); ++k) {
      const std::string key = slot_names_[k] + "/" + name;
      auto it = s.tensors.find(key);
      if (it == s.tensors.end()) {
        // A parameter never updated has no state yet; one that was updated must have it.
        OSPREY_CHECK_KIND(not_found, param_steps[i] == 0,
                          "{}: optimizer state has no tensor '{}' although parameter '{}' was "
                          "updated {} times",
                          kind_, key, name, param_steps[i]);
        continue;
      }
      const Tensor& saved = it->second;
      OSPREY_CHECK(saved.defined(), "{}: optimizer state tensor '{}' is undefined", kind_, key);
      OSPREY_CHECK_KIND(shape, saved.shape() == p.shape(),
                        "{}: optimizer state tensor '{}' is {} but parameter '{}' is {}", kind_,
                        key, saved.describe(), name, p.describe());
      Tensor copy = new_state_like(p);
      {
        autograd::NoGradGuard no_grad;
        copy.copy_(saved.detach());
      }
      slots[k][i] = copy;
      used_tensors.insert(key);
    }
  }
  for (const auto& [key, value] : s.counters) {
    OSPREY_CHECK(used_counters.count(key),
                 "{}: optimizer state counter '{}' belongs to no parameter of this optimizer",
                 kind_, key);
  }
  for (const auto& [key, value] : s.tensors) {
    OSPREY_CHECK(used_tensors.count(key),
                 "{}: optimizer state tensor '{}' belongs to no parameter of this optimizer", kind_,
                 key);
  }
  steps_ = steps;
  param_steps_ = std::move(param_steps);
  slots_ = std::move(slots);
}

}  // namespace osprey::optim
