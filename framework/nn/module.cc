#include "framework/nn/module.h"

#include <set>

#include "framework/autograd/grad_mode.h"

namespace osprey::nn {

std::string join_name(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name.empty() ? prefix : prefix + "." + name;
}

Tensor Module::forward(const Tensor&) {
  OSPREY_THROW(value, "{} has no single-tensor forward", describe());
}

Tensor Module::operator()(const Tensor& input) {
  return run_forward_hooks(input, forward(input));
}

Tensor Module::run_forward_hooks(const Tensor& input, const Tensor& output) {
  for (auto& [id, hook] : hooks_) hook(*this, input, output);
  return output;
}

void Module::check_new_name(const std::string& name) const {
  OSPREY_CHECK_KIND(value, !name.empty() && name.find('.') == std::string::npos,
                    "{}: invalid member name '{}' (non-empty, no dots)", describe(), name);
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.name == name) return true;
    return false;
  };
  bool child_taken = false;
  for (const auto& [child_name, child] : children_) child_taken |= child_name == name;
  OSPREY_CHECK_KIND(value, !taken(parameters_) && !taken(buffers_) && !child_taken,
                    "{}: member name '{}' registered twice", describe(), name);
}

void Module::register_parameter(const std::string& name, Tensor* slot, bool requires_grad) {
  if (!slot->defined()) return;
  check_new_name(name);
  slot->set_requires_grad(requires_grad);
  parameters_.push_back({name, slot});
}

void Module::register_buffer(const std::string& name, Tensor* slot) {
  if (!slot->defined()) return;
  check_new_name(name);
  buffers_.push_back({name, slot});
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  OSPREY_CHECK_KIND(value, child != nullptr, "{}: child '{}' is null", describe(), name);
  check_new_name(name);
  child->train(training_);
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix, bool parameters, bool recurse,
                     NamedTensors& out) const {
  for (const auto& slot : parameters ? parameters_ : buffers_)
    out.emplace_back(join_name(prefix, slot.name), *slot.tensor);
  if (!recurse) return;
  for (const auto& [name, child] : children_)
    child->collect(join_name(prefix, name), parameters, recurse, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, recurse, out);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, recurse, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters(recurse)) out.push_back(tensor);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [name, child] : children_)
    for (auto& [sub, module] : child->named_modules())
      out.emplace_back(join_name(name, sub), module);
  return out;
}

Module& Module::submodule(const std::string& path) {
  if (path.empty()) return *this;
  const size_t dot = path.find('.');
  const std::string head = path.substr(0, dot);
  for (auto& [name, child] : children_)
    if (name == head)
      return dot == std::string::npos ? *child : child->submodule(path.substr(dot + 1));
  OSPREY_THROW(value, "{}: no submodule '{}' (path '{}')", describe(), head, path);
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const auto& [name, tensor] : named_parameters()) count += tensor.numel();
  return count;
}

void Module::collect_state(const std::string& prefix, NamedTensors& out) const {
  for (const auto& slot : parameters_)
    out.emplace_back(join_name(prefix, slot.name), slot.tensor->detach());
  for (const auto& slot : buffers_)
    out.emplace_back(join_name(prefix, slot.name), slot.tensor->detach());
  for (const auto& [name, child] : children_) child->collect_state(join_name(prefix, name), out);
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect_state("", out);
  return out;
}

void Module::collect_slots(const std::string& prefix,
                           std::vector<std::pair<std::string, Slot>>& out, bool parameters,
                           bool buffers) {
  if (parameters)
    for (auto& slot : parameters_) out.emplace_back(join_name(prefix, slot.name), slot);
  if (buffers)
    for (auto& slot : buffers_) out.emplace_back(join_name(prefix, slot.name), slot);
  for (auto& [name, child] : children_)
    child->collect_slots(join_name(prefix, name), out, parameters, buffers);
}

LoadReport Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::vector<std::pair<std::string, Slot>> slots;
  collect_slots("", slots, true, true);
  std::map<std::string, const Tensor*> source;
  for (const auto& [name, tensor] : state) {
    OSPREY_CHECK_KIND(value, source.emplace(name, &tensor).second,
                      "load_state_dict: '{}' appears twice in the state", name);
  }
  LoadReport report;
  std::set<std::string> known;
  for (auto& [name, slot] : slots) {
    known.insert(name);
    auto it = source.find(name);
    if (it == source.end()) {
      report.missing.push_back(name);
      continue;
    }
    const Tensor& value = *it->second;
    OSPREY_CHECK_KIND(shape, value.shape() == slot.tensor->shape(),
                      "load_state_dict: '{}' has shape {} in the state but {} in the model", name,
                      shape_str(value.shape()), shape_str(slot.tensor->shape()));
    report.loaded.push_back(name);
  }
  for (const auto& [name, tensor] : state)
    if (!known.count(name)) report.unexpected.push_back(name);
  if (strict && (!report.missing.empty() || !report.unexpected.empty())) {
    auto list = [](const std::vector<std::string>& names) {
      std::string text;
      for (size_t i = 0; i < names.size() && i < 8; ++i) text += (i ? ", " : "") + names[i];
      if (names.size() > 8) text += fmt::format(", … ({} in all)", names.size());
      return text.empty() ? std::string("none") : text;
    };
    OSPREY_THROW(value, "load_state_dict (strict): missing [{}]; unexpected [{}]",
                 list(report.missing), list(report.unexpected));
  }
  // Copy only after every check passed, so a failed load leaves the model untouched.
  autograd::NoGradGuard no_grad;
  for (auto& [name, slot] : slots) {
    auto it = source.find(name);
    if (it != source.end()) slot.tensor->copy_(*it->second);
  }
  return report;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

namespace {

void replace(Tensor* slot, const Tensor& moved, bool parameter) {
  const bool requires_grad = slot->requires_grad();
  Tensor fresh = moved.detach();
  if (parameter) fresh.set_requires_grad(requires_grad);
  *slot = fresh;
}

}  // namespace

void Module::to(Device device) {
  autograd::NoGradGuard no_grad;
  for (auto& slot : parameters_)
    if (slot.tensor->device() != device) replace(slot.tensor, slot.tensor->to(device), true);
  for (auto& slot : buffers_)
    if (slot.tensor->device() != device) replace(slot.tensor, slot.tensor->to(device), false);
  for (auto& [name, child] : children_) child->to(device);
}

void Module::to(DType dtype) {
  autograd::NoGradGuard no_grad;
  for (auto& slot : parameters_)
    if (is_floating(slot.tensor->dtype()) && slot.tensor->dtype() != dtype)
      replace(slot.tensor, slot.tensor->to(dtype), true);
  for (auto& slot : buffers_)
    if (is_floating(slot.tensor->dtype()) && slot.tensor->dtype() != dtype)
      replace(slot.tensor, slot.tensor->to(dtype), false);
  for (auto& [name, child] : children_) child->to(dtype);
}

void Module::zero_grad() {
  for (auto& [name, tensor] : named_parameters()) tensor.zero_grad();
}

void Module::set_requires_grad(bool requires_grad) {
  for (auto& [name, tensor] : named_parameters()) tensor.set_requires_grad(requires_grad);
}

int Module::add_forward_hook(ForwardHook hook) {
  hooks_.emplace(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

void Module::remove_forward_hook(int id) {
  hooks_.erase(id);
}

}  // namespace osprey::nn
