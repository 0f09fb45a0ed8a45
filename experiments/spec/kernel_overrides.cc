#include "experiments/spec/kernel_overrides.h"

#include "framework/core/error.h"

namespace osprey::experiments {
namespace {

std::string impl_list(const std::vector<const dispatch::Kernel*>& kernels) {
  std::vector<std::string> names;
  for (const auto* k : kernels) names.push_back(k->impl);
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

bool has_any_kernel(const dispatch::Registry& registry, DeviceType device) {
  for (const auto& op : registry.op_names())
    if (!registry.kernels(op, device).empty()) return true;
  return false;
}

}  // namespace

DeviceType to_device_type(proto::DeviceType device) {
  switch (device) {
    case proto::CPU:
      return DeviceType::cpu;
    case proto::CUDA:
      return DeviceType::cuda;
  }
  OSPREY_THROW(value, "unknown device type {}", static_cast<int>(device));
}

std::string kernel_override_problem(const proto::KernelOverride& entry,
                                    const dispatch::Registry& registry) {
  if (entry.op().empty()) return "op: must be set";
  if (!registry.has_op(entry.op())) {
    return fmt::format("op: unknown op '{}' (ops: {})", entry.op(),
                       fmt::join(registry.op_names(), ", "));
  }
  if (entry.impl().empty()) return "impl: must be set";
  const DeviceType device = to_device_type(entry.device());
  if (device == DeviceType::cuda && !has_any_kernel(registry, device)) return "";
  auto kernels = registry.kernels(entry.op(), device);
  for (const auto* k : kernels)
    if (k->impl == entry.impl()) return "";
  return fmt::format("impl: op '{}' has no {} kernel '{}' (available: {})", entry.op(),
                     device_type_name(device), entry.impl(), impl_list(kernels));
}

KernelOverrideGuard::KernelOverrideGuard(
    const google::protobuf::RepeatedPtrField<proto::KernelOverride>& entries,
    dispatch::Registry& registry)
    : registry_(registry) {
  for (int i = 0; i < entries.size(); ++i) {
    const auto& entry = entries.Get(i);
    std::string problem = kernel_override_problem(entry, registry);
    OSPREY_CHECK_KIND(not_found, problem.empty(), "kernel[{}].{}", i, problem);
  }
  try {
    for (int i = 0; i < entries.size(); ++i) {
      const auto& entry = entries.Get(i);
      const DeviceType device = to_device_type(entry.device());
      // Without kernels for the device (a CUDA entry on a CPU-only build) the registry cannot
      // take the override, and there is nothing to select.
      if (registry.kernels(entry.op(), device).empty()) continue;
      previous_.emplace_back(entry.op(), device, registry.override_for(entry.op(), device));
      registry.set_override(entry.op(), device, entry.impl());
      applied_.push_back(
          fmt::format("{}:{}={}", entry.op(), device_type_name(device), entry.impl()));
    }
  } catch (...) {
    restore();
    throw;
  }
}

KernelOverrideGuard::~KernelOverrideGuard() {
  restore();
}

void KernelOverrideGuard::restore() {
  // Newest first, so an op overridden twice ends with what it had before the guard.
  for (auto it = previous_.rbegin(); it != previous_.rend(); ++it) {
    const auto& [op, device, before] = *it;
    try {
      if (before) {
        registry_.set_override(op, device, *before);
      } else {
        registry_.clear_override(op, device);
      }
    } catch (const Error&) {
      // The earlier override named a kernel that existed when it was set; kernels are never
      // removed, so this cannot fail in practice, and a destructor must not throw.
      registry_.clear_override(op, device);
    }
  }
  previous_.clear();
}

}  // namespace osprey::experiments
