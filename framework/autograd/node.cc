#include "framework/autograd/node.h"

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"

namespace osprey::autograd {

OpNode::OpNode(const dispatch::OpDef& op, dispatch::BackwardContext saved,
               std::vector<uint64_t> saved_versions, std::vector<Shape> output_shapes,
               std::vector<DType> output_dtypes, Device device)
    : op_(op),
      saved_(std::move(saved)),
      saved_versions_(std::move(saved_versions)),
      output_shapes_(std::move(output_shapes)),
      output_dtypes_(std::move(output_dtypes)),
      device_(device) {
  output_hooks.resize(output_shapes_.size());
  retained.resize(output_shapes_.size());
}

std::string OpNode::name() const {
  return op_.schema.name + "_backward";
}

void OpNode::release_saved() {
  saved_.inputs.assign(saved_.inputs.size(), Tensor());
  saved_.outputs.assign(saved_.outputs.size(), Tensor());
  released_ = true;
}

std::vector<Tensor> OpNode::apply(std::vector<Tensor> grad_outputs) {
  const auto& schema = op_.schema;
  if (released_) {
    OSPREY_THROW(autograd,
                 "trying to backward through the graph of op '{}' a second time; its saved "
                 "tensors were freed (pass retain_graph=true to the first backward)",
                 schema.name);
  }
  size_t n_in = saved_.inputs.size();
  for (size_t i = 0; i < saved_versions_.size(); ++i) {
    const Tensor& t = i < n_in ? saved_.inputs[i] : saved_.outputs[i - n_in];
    if (t.defined() && t.version() != saved_versions_[i]) {
      std::string which = i < n_in ? fmt::format("input '{}'", schema.input_spec(i).name)
                                   : fmt::format("output '{}'", schema.outputs[i - n_in].name);
      OSPREY_THROW(autograd,
                   "{} of op '{}' ({}) was saved for backward and has since been modified in "
                   "place (version {} when saved, now {})",
                   which, schema.name, t.describe(), saved_versions_[i], t.version());
    }
  }
  for (size_t i = 0; i < grad_outputs.size(); ++i) {
    if (!grad_outputs[i].defined()) {
      grad_outputs[i] = Tensor::empty(output_shapes_[i], output_dtypes_[i], device_);
      grad_outputs[i].zero_();
    }
  }
  saved_.grad_outputs = std::move(grad_outputs);
  std::vector<Tensor> grads;
  try {
    grads = op_.backward(saved_);
  } catch (Error& e) {
    e.add_context(fmt::format("in the backward of op '{}'", schema.name));
    throw;
  }
  saved_.grad_outputs.clear();
  if (grads.size() != n_in) {
    OSPREY_THROW(internal, "backward of op '{}' returned {} gradients for {} inputs", schema.name,
                 grads.size(), n_in);
  }
  for (size_t i = 0; i < n_in; ++i) {
    if (!saved_.needs_input_grad[i]) {
      grads[i] = Tensor();
      continue;
    }
    if (!grads[i].defined()) {
      OSPREY_THROW(internal, "backward of op '{}' returned no gradient for input '{}'", schema.name,
                   schema.input_spec(i).name);
    }
    if (grads[i].shape() != saved_.input_shapes[i]) {
      OSPREY_THROW(internal,
                   "backward of op '{}' returned a gradient of shape {} for input '{}' of "
                   "shape {}",
                   schema.name, shape_str(grads[i].shape()), schema.input_spec(i).name,
                   shape_str(saved_.input_shapes[i]));
    }
    if (grads[i].dtype() != saved_.input_dtypes[i]) grads[i] = grads[i].to(saved_.input_dtypes[i]);
  }
  return grads;
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor> grad_outputs) {
  auto leaf = leaf_.lock();
  if (!leaf || !grad_outputs[0].defined()) return {};
  Tensor grad = grad_outputs[0];
  for (const auto& hook : leaf->hooks) {
    Tensor replaced = hook(grad);
    if (replaced.defined()) grad = replaced;
  }
  if (!leaf->grad) {
    // Own the gradient: the engine's buffer may alias a user tensor or another leaf's gradient.
    leaf->grad = grad.detach().clone().impl_ptr();
  } else {
    Tensor sum = dispatch::call1("add", {Tensor(leaf->grad), grad});
    leaf->grad = sum.impl_ptr();
  }
  return {};
}

Edge gradient_edge(const Tensor& tensor) {
  TensorImpl* impl = tensor.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  if (!impl->requires_grad) return {};
  auto acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(tensor.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

}  // namespace osprey::autograd
