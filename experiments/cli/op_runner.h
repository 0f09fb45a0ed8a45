// What the op-running subcommands (op, check-kernel) share: a scoped kernel override and running
// an op on a chosen device even when it has no tensor input to say where.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "framework/dispatch/registry.h"

namespace osprey::cli {

// Forces `impl` for `op` on `device` for its lifetime (an unknown name is an error listing the
// kernels) and restores the previous override afterwards.
class KernelOverride {
 public:
  KernelOverride(std::string op, DeviceType device, const std::string& impl);
  ~KernelOverride();
  KernelOverride(const KernelOverride&) = delete;
  KernelOverride& operator=(const KernelOverride&) = delete;

 private:
  std::string op_;
  DeviceType device_;
  std::optional<std::string> previous_;
};

// Runs `op` on `device`. Inputs are expected there already. An op without tensor inputs (uniform,
// randperm) runs on the CPU unless given outputs on the device: its output shapes are learned
// from a CPU run, then it runs again into outputs allocated on the device.
std::vector<Tensor> call_on_device(const std::string& op, const std::vector<Tensor>& inputs,
                                   const dispatch::Attrs& attrs, Device device);

}  // namespace osprey::cli
