// Kernels and the context they run in. A kernel is one implementation of one op on one device type,
// registered under the key `op/device/impl` with a priority and an optional `supports` predicate.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"

namespace osprey::dispatch {

struct OpDef;
struct Kernel;

class KernelContext {
 public:
  KernelContext(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs,
                std::vector<Tensor> outputs, Device device);

  const OpDef& op() const { return op_; }
  const Attrs& attrs() const { return attrs_; }
  Device device() const { return device_; }
  const Kernel* kernel() const { return kernel_; }
  void set_kernel(const Kernel* kernel) { kernel_ = kernel; }

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const Tensor& input(int index) const;
  const Tensor& input(std::string_view name) const;
  const std::vector<Tensor>& inputs() const { return inputs_; }

  // The output tensor `index`: the one the caller passed (out=), checked against shape and dtype,
  // or a new one on the op's device. New outputs are filled with NaN while poisoning is on, so a
  // kernel that forgets to write part of its output is caught by the gradient-check harness.
  Tensor& output(int index, const Shape& shape, DType dtype,
                 MemoryFormat format = MemoryFormat::contiguous);
  // For view ops and kernels that produce their result another way (an alias, a returned tensor).
  void set_output(int index, Tensor tensor);
  std::vector<Tensor>& outputs() { return outputs_; }
  const std::vector<Tensor>& outputs() const { return outputs_; }
  bool has_preset_output(int index) const;

 private:
  const OpDef& op_;
  std::vector<Tensor> inputs_;
  const Attrs& attrs_;
  std::vector<Tensor> outputs_;
  std::vector<bool> preset_;
  Device device_;
  const Kernel* kernel_ = nullptr;
};

using KernelFn = std::function<void(KernelContext&)>;
using SupportsFn = std::function<bool(const KernelContext&)>;

struct Kernel {
  std::string op;
  DeviceType device = DeviceType::cpu;
  std::string impl;  // "reference", "openblas", "cublas", ...
  int priority = 0;  // the highest supporting kernel runs unless overridden
  KernelFn fn;
  SupportsFn supports;  // empty: supports every call the schema accepts
  std::string doc;      // what the variant does and when it wins

  std::string key() const;  // "op/device/impl"
};

// Poisoning of freshly allocated outputs (see KernelContext::output); scoped.
bool output_poisoning_enabled();
class PoisonOutputsGuard {
 public:
  explicit PoisonOutputsGuard(bool enabled = true);
  ~PoisonOutputsGuard();
  PoisonOutputsGuard(const PoisonOutputsGuard&) = delete;
  PoisonOutputsGuard& operator=(const PoisonOutputsGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace osprey::dispatch
