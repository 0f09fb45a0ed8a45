#include "experiments/cli/op_runner.h"

#include "framework/autograd/grad_mode.h"

namespace osprey::cli {

KernelOverride::KernelOverride(std::string op, DeviceType device, const std::string& impl)
    : op_(std::move(op)), device_(device) {
  auto& registry = dispatch::Registry::instance();
  previous_ = registry.override_for(op_, device_);
  registry.set_override(op_, device_, impl);
}

KernelOverride::~KernelOverride() {
  auto& registry = dispatch::Registry::instance();
  if (previous_) {
    registry.set_override(op_, device_, *previous_);
  } else {
    registry.clear_override(op_, device_);
  }
}

std::vector<Tensor> call_on_device(const std::string& op, const std::vector<Tensor>& inputs,
                                   const dispatch::Attrs& attrs, Device device) {
  bool any_input = false;
  for (const auto& t : inputs) any_input |= t.defined();
  if (any_input || device.is_cpu()) return dispatch::call(op, inputs, attrs);
  std::vector<Tensor> probe;
  {
    autograd::NoGradGuard no_grad;
    probe = dispatch::call(op, inputs, attrs);
  }
  std::vector<Tensor> outputs;
  for (const auto& t : probe) outputs.push_back(Tensor::empty(t.shape(), t.dtype(), device));
  return dispatch::call(op, inputs, attrs, outputs);
}

}  // namespace osprey::cli
