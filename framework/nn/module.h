// Module: a named tree of parameters, buffers and child modules, the unit models are built from.
//
// Names are paths: a parameter `weight` of child `conv1` of child `b3` of `res4` is
// "res4.b3.conv1.weight" (DESIGN.md principle 6). Checkpoints, transfer by pattern, freezing and
// lr/decay multipliers all key on these names, so registration order and names are part of a
// model's interface and stay stable.
//
// Parameters and buffers live in the subclass as plain `Tensor` members, registered by address:
//     weight = ...; register_parameter("weight", &weight);
// so layer code reads naturally and `to(device)` can replace them in place. That is why a Module
// can be neither copied nor moved. Children are shared_ptrs, so a model may keep typed handles to
// its parts (e.g. the stages of a backbone) beside the tree.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What load_state_dict did, by name.
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the module, absent from the state
  std::vector<std::string> unexpected;  // in the state, absent from the module
};

class Module {
 public:
  using ForwardHook =
      std::function<void(Module& module, const Tensor& input, const Tensor& output)>;

  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // The single-tensor forward most layers have; modules with other signatures (detection heads)
  // add their own methods and leave this one throwing.
  virtual Tensor forward(const Tensor& input);
  // forward, then the forward hooks.
  Tensor operator()(const Tensor& input);
  // Shown in errors and summaries: "Conv2d(3, 64, kernel=7, stride=2)".
  virtual std::string describe() const { return "Module"; }

  // --- the tree (registration order; names are dotted paths below this module) ---
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // Every module below this one, depth first, with this module itself first under "".
  std::vector<std::pair<std::string, Module*>> named_modules();
  // The descendant at a dotted path ("res4.b3"); throws naming the path when absent.
  Module& submodule(const std::string& path);
  int64_t parameter_count() const;

  // --- state ---
  // Parameters then buffers of each module, depth first (detached handles sharing storage).
  NamedTensors state_dict() const;
  // Copies values in place (converting dtype and device), so optimisers keep their handles.
  // A shape mismatch is always an error naming the tensor and both shapes; missing and
  // unexpected names are errors when `strict`, else reported.
  LoadReport load_state_dict(const NamedTensors& state, bool strict = true);

  // --- modes and placement ---
  // Virtual so that a model can keep parts in eval mode while it trains (a backbone's frozen
  // stages); children are switched through this same call.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves every parameter and buffer (parameters keep requires_grad and become new leaves).
  void to(Device device);
  void to(DType dtype);  // floating-point tensors only; integer buffers keep their dtype
  void zero_grad();
  void set_requires_grad(bool requires_grad);

  int add_forward_hook(ForwardHook hook);
  void remove_forward_hook(int id);

 protected:
  // `slot` must be a member of this module (its address is kept). Undefined tensors (an absent
  // bias) are not registered.
  void register_parameter(const std::string& name, Tensor* slot, bool requires_grad = true);
  void register_buffer(const std::string& name, Tensor* slot);
  // Runs the forward hooks on (input, output) and returns output: for extra forward methods.
  Tensor run_forward_hooks(const Tensor& input, const Tensor& output);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

 private:
  struct Slot {
    std::string name;
    Tensor* tensor;
  };
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool parameters, bool recurse, NamedTensors& out) const;
  void collect_state(const std::string& prefix, NamedTensors& out) const;
  void collect_slots(const std::string& prefix, std::vector<std::pair<std::string, Slot>>& out,
                     bool parameters, bool buffers);

  std::vector<Slot> parameters_;
  std::vector<Slot> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::map<int, ForwardHook> hooks_;
  int next_hook_id_ = 0;
  bool training_ = true;
};

// Joins a prefix and a name with a dot ("" + "w" = "w").
std::string join_name(const std::string& prefix, const std::string& name);

}  // namespace osprey::nn
