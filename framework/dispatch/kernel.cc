#include "framework/dispatch/kernel.h"

#include <atomic>
#include <limits>

#include "framework/dispatch/op_def.h"

namespace osprey::dispatch {
namespace {
thread_local bool poison_outputs = false;
}

bool output_poisoning_enabled() {
  return poison_outputs;
}

PoisonOutputsGuard::PoisonOutputsGuard(bool enabled) : previous_(poison_outputs) {
  poison_outputs = enabled;
}
PoisonOutputsGuard::~PoisonOutputsGuard() {
  poison_outputs = previous_;
}

std::string Kernel::key() const {
  return op + "/" + device_type_name(device) + "/" + impl;
}

KernelContext::KernelContext(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs,
                             std::vector<Tensor> outputs, Device device)
    : op_(op), inputs_(std::move(inputs)), attrs_(attrs), device_(device) {
  size_t n = op.schema.outputs.size();
  outputs_.resize(n);
  preset_.assign(n, false);
  for (size_t i = 0; i < outputs.size() && i < n; ++i) {
    if (outputs[i].defined()) {
      outputs_[i] = std::move(outputs[i]);
      preset_[i] = true;
    }
  }
}

const Tensor& KernelContext::input(int index) const {
  return inputs_.at(index);
}

const Tensor& KernelContext::input(std::string_view name) const {
  int index = op_.schema.input_index(name);
  if (index < 0) OSPREY_THROW(not_found, "op '{}' has no input '{}'", op_.schema.name, name);
  return inputs_[index];
}

bool KernelContext::has_preset_output(int index) const {
  return preset_.at(index);
}

Tensor& KernelContext::output(int index, const Shape& shape, DType dtype, MemoryFormat format) {
  Tensor& out = outputs_.at(index);
  if (preset_[index]) {
    if (out.shape() != shape || out.dtype() != dtype || out.device() != device_) {
      OSPREY_THROW(shape, "op '{}': output '{}' given as {}, but the result is {}{} {}",
                   op_.schema.name, op_.schema.outputs[index].name, out.describe(),
                   dtype_name(dtype), shape_str(shape), device_.str());
    }
    return out;
  }
  out = Tensor::empty(shape, dtype, device_, format);
  if (poison_outputs && is_floating(dtype) && out.numel() > 0) {
    PoisonOutputsGuard off(false);
    out.fill_(std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

void KernelContext::set_output(int index, Tensor tensor) {
  outputs_.at(index) = std::move(tensor);
}

}  // namespace osprey::dispatch
