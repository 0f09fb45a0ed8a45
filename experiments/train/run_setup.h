// The pieces of a training run made from its spec: seeds per role, data loaders, the optimiser and
// its learning-rate schedule, the run length, and `--set` overrides of spec fields.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/loader.h"
#include "experiments/proto/osprey.pb.h"
#include "framework/nn/module.h"
#include "framework/optim/lr_schedule.h"
#include "framework/optim/optimizer.h"

namespace osprey::experiments {

// The seed of one random role ("model", "data", "default") drawn from the run's seed, so roles
// draw independent streams and adding a role changes none of the others.
uint64_t derive_seed(uint64_t seed, std::string_view role);

// The dataset a DataSpec names, limited to its first `limit` examples when limit > 0.
std::shared_ptr<const data::Dataset> make_dataset(const proto::DataSpec& spec,
                                                  const std::string& field);
// Training loaders shuffle, augment and drop the short batch as the spec says; evaluation loaders
// (train = false) keep the dataset order and every example, normalise only (a configured crop is
// centred), and use `batch_size`.
std::unique_ptr<data::DataLoader> make_loader(const proto::DataSpec& spec, uint64_t seed,
                                              bool train, int64_t batch_size,
                                              const std::string& field);

// solver.max_iter, or ceil(solver.epochs · batches_per_epoch); an error when neither is set.
int64_t resolve_max_iter(const proto::SolverSpec& solver, int64_t batches_per_epoch);

optim::LrSchedule make_lr_schedule(const proto::SolverSpec& solver, int64_t max_iter);
// Over the trainable (requires_grad) parameters, with the spec's param_rules.
std::unique_ptr<optim::Optimizer> make_optimizer(const proto::SolverSpec& solver,
                                                 const nn::NamedTensors& parameters);

// Applies "field.path=value" assignments (`osprey train --set solver.max_iter=30`): each becomes
// the text-format fragment `field { path: value }` merged over the spec, so a scalar is replaced
// and a repeated field gets one more element. Setting solver.max_iter clears solver.epochs and
// vice versa (a run has one length). Errors name the assignment.
void apply_overrides(proto::Experiment& spec, const std::vector<std::string>& assignments);

}  // namespace osprey::experiments
