#include "framework/dispatch/registry.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>

#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"

namespace osprey::dispatch {

Registry& Registry::instance() {
  static Registry registry;
  return registry;
}

Registry::Registry() = default;

void Registry::add_op(OpDef op) {
  std::string name = op.schema.name;
  if (ops_.count(name)) {
    duplicate_errors_.push_back(fmt::format("op '{}' registered twice", name));
    return;
  }
  ops_.emplace(name, std::move(op));
}

void Registry::add_kernel(Kernel kernel) {
  auto& list = kernels_[kernel.op];
  for (const auto& k : list) {
    if (k.device == kernel.device && k.impl == kernel.impl) {
      duplicate_errors_.push_back(fmt::format("kernel '{}' registered twice", kernel.key()));
      return;
    }
  }
  list.push_back(std::move(kernel));
  std::stable_sort(list.begin(), list.end(),
                   [](const Kernel& a, const Kernel& b) { return a.priority > b.priority; });
}

bool Registry::has_op(std::string_view name) const {
  return ops_.find(name) != ops_.end();
}

const OpDef& Registry::op(std::string_view name) const {
  auto it = ops_.find(name);
  if (it == ops_.end()) {
    OSPREY_THROW(not_found, "unknown op '{}'; registered ops: {}", name,
                 fmt::join(op_names(), ", "));
  }
  return it->second;
}

std::vector<std::string> Registry::op_names() const {
  std::vector<std::string> names;
  for (const auto& [name, def] : ops_) names.push_back(name);
  return names;
}

std::vector<const Kernel*> Registry::kernels(std::string_view op, DeviceType device) const {
  std::vector<const Kernel*> out;
  auto it = kernels_.find(op);
  if (it == kernels_.end()) return out;
  for (const auto& k : it->second) {
    if (k.device == device) out.push_back(&k);
  }
  return out;
}

std::vector<const Kernel*> Registry::kernels(std::string_view op) const {
  std::vector<const Kernel*> out;
  auto it = kernels_.find(op);
  if (it == kernels_.end()) return out;
  for (const auto& k : it->second) out.push_back(&k);
  return out;
}

namespace {
std::string kernel_list(const std::vector<const Kernel*>& kernels) {
  std::vector<std::string> keys;
  for (const auto* k : kernels) keys.push_back(k->key());
  return keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", "));
}
std::string override_key(std::string_view op, DeviceType device) {
  return fmt::format("{}:{}", op, device_type_name(device));
}
}  // namespace

const Kernel& Registry::kernel(std::string_view op, DeviceType device,
                               std::string_view impl) const {
  this->op(op);  // unknown op: error listing the ops
  auto list = kernels(op, device);
  for (const auto* k : list) {
    if (k->impl == impl) return *k;
  }
  OSPREY_THROW(not_found, "no kernel '{}/{}/{}'; kernels of '{}': {}", op, device_type_name(device),
               impl, op, kernel_list(kernels(op)));
}

const Kernel& Registry::select(const KernelContext& ctx) const {
  const std::string& name = ctx.op().schema.name;
  DeviceType device = ctx.device().type;
  if (auto forced = override_for(name, device)) {
    const Kernel& k = kernel(name, device, *forced);
    if (k.supports && !k.supports(ctx)) {
      OSPREY_THROW(not_found,
                   "kernel '{}' (selected by override) does not support this call; other "
                   "kernels: {}",
                   k.key(), kernel_list(kernels(name, device)));
    }
    return k;
  }
  auto list = kernels(name, device);
  for (const auto* k : list) {
    if (!k->supports || k->supports(ctx)) return *k;
  }
  OSPREY_THROW(not_found, "no {} kernel of op '{}' supports this call (kernels: {})",
               device_type_name(device), name, kernel_list(list));
}

void Registry::set_override(std::string_view op, DeviceType device, std::string_view impl) {
  kernel(op, device, impl);  // validates names, listing the alternatives
  overrides_[override_key(op, device)] = std::string(impl);
}

void Registry::clear_override(std::string_view op, DeviceType device) {
  auto it = overrides_.find(override_key(op, device));
  if (it != overrides_.end()) overrides_.erase(it);
}

std::optional<std::string> Registry::override_for(std::string_view op, DeviceType device) const {
  if (overrides_.empty()) return std::nullopt;
  auto it = overrides_.find(override_key(op, device));
  if (it == overrides_.end()) return std::nullopt;
  return it->second;
}

void Registry::apply_overrides(std::string_view spec) {
  size_t start = 0;
  while (start < spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view item = spec.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    size_t colon = item.find(':');
    size_t equals = item.find('=');
    if (colon == std::string_view::npos || equals == std::string_view::npos || equals < colon) {
      OSPREY_THROW(value, "kernel override '{}' is not of the form op:device=impl", item);
    }
    Device device = Device::parse(item.substr(colon + 1, equals - colon - 1));
    set_override(item.substr(0, colon), device.type, item.substr(equals + 1));
  }
}

std::vector<std::string> Registry::problems() const {
  std::vector<std::string> out = duplicate_errors_;
  for (const auto& [name, def] : ops_) {
    bool has_reference = false;
    for (const auto* k : kernels(name, DeviceType::cpu)) has_reference |= k->impl == "reference";
    if (!has_reference) out.push_back(fmt::format("op '{}' has no cpu/reference kernel", name));
    if (!def.cases) out.push_back(fmt::format("op '{}' has no case list", name));
  }
  for (const auto& [name, list] : kernels_) {
    if (!ops_.count(name)) {
      out.push_back(fmt::format("kernel '{}' belongs to no registered op", list.front().key()));
    }
  }
  return out;
}

}  // namespace osprey::dispatch
