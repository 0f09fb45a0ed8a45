// The optimiser base: the parameter list with per-parameter multipliers, the base learning rate
// (set each iteration from a schedule), per-parameter state tensors ("slots": momentum buffers,
// Adam moments) and their save/restore for checkpoints. Subclasses supply the update, which runs
// as one registered op per device (sgd_update, adamw_update), so its kernels are swappable.
//
// A step updates every parameter whose gradient is defined and skips the others (their state and
// step count stay as they were), as PyTorch does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/optim/param_groups.h"

namespace osprey::optim {

// What a checkpoint keeps of an optimiser. Tensor names are "<slot>/<parameter name>"
// ("momentum_buffer/backbone.conv1.weight", "exp_avg/...", "exp_avg_sq/..."); counters are
// "steps" (calls of step()) and "step/<parameter name>" (updates applied to that parameter).
struct OptimizerState {
  std::string kind;  // "sgd", "adamw"
  std::map<std::string, Tensor> tensors;
  std::map<std::string, int64_t> counters;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter with a defined gradient (lr() * lr_mult per parameter), under
  // NoGradGuard.
  void step();
  // Drops every parameter's gradient (undefined: the next backward writes a fresh one).
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);  // the base rate, e.g. lr_at(schedule, iteration)
  const std::string& kind() const { return kind_; }
  const std::vector<OptimParam>& params() const { return params_; }
  int64_t steps() const { return steps_; }

  // The state as named tensors (aliases of the optimiser's own buffers: write them out before the
  // next step, or clone them) and counters.
  OptimizerState state() const;
  // Restores a state saved by an optimiser of the same kind over the same parameters. Values are
  // copied (to each parameter's device and dtype), so subsequent steps are bit-identical to those
  // of the saved optimiser. Errors name the entry: a wrong kind, a missing counter or tensor, a
  // shape mismatch, an entry that belongs to no parameter. Nothing changes when it throws.
  void load_state(const OptimizerState& state);

 protected:
  Optimizer(std::string kind, const NamedParameters& params, const ParamGroupOptions& groups,
            double lr, std::vector<std::string> slot_names);

  // Updates params_[i] for i in `indices` (all on one device, each with a defined gradient given
  // in `grads`, in the same order). param_steps_ already counts this update.
  virtual void update(const std::vector<size_t>& indices, const std::vector<Tensor>& grads) = 0;

  // An uninitialised state tensor for `param`, in its layout (channels-last parameters get
  // channels-last state, so the update runs over one dense layout without copies).
  static Tensor new_state_like(const Tensor& param);
  // Slot `slot` of parameter i; undefined until the subclass creates it.
  Tensor& slot(size_t slot, size_t i) { return slots_.at(slot).at(i); }
  int64_t param_step(size_t i) const { return param_steps_.at(i); }

 private:
  std::string kind_;
  std::vector<OptimParam> params_;
  double lr_ = 0.0;
  int64_t steps_ = 0;
  std::vector<int64_t> param_steps_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;  // [slot][parameter]
};

}  // namespace osprey::optim
