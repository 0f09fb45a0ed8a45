// Transfer and freezing by parameter name (DESIGN.md principle 6).
//
// init_from: the model tensors of a checkpoint are renamed (the first `rename` rule whose `from`
// prefixes a name rewrites that prefix to `to`), filtered (kept when an include pattern matches,
// or there are none, and no exclude pattern matches) and loaded into the module by name. Shape
// mismatches are errors unless allow_shape_mismatch, which skips and reports them. Nothing is
// copied unless every check passed.
//
// freeze: every parameter whose name matches a pattern stops requiring gradients; a pattern that
// matches no parameter is an error, so a typo cannot silently train everything.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiments/proto/osprey.pb.h"
#include "framework/nn/module.h"

namespace osprey::experiments {

struct TransferReport {
  std::string source;                           // the checkpoint path (or "<tensors>")
  std::vector<std::string> matched;             // model names that received values
  std::vector<std::string> skipped_by_pattern;  // checkpoint names (after rename) filtered out
  std::vector<std::string> absent_in_model;     // kept by the patterns, unknown to the model
  std::vector<std::string> shape_mismatches;    // "name: checkpoint [..] vs model [..]"
  std::vector<std::string> not_initialised;     // model tensors that received nothing

  // A few lines: counts, then the names of absent and mismatched tensors (abbreviated).
  std::string summary() const;
};

using LogFn = std::function<void(const std::string& line)>;

// Transfers from named tensors (a checkpoint's model tensors); rules as in `init`, whose
// `checkpoint` field is ignored.
TransferReport transfer_tensors(nn::Module& module, const nn::NamedTensors& source,
                                const proto::InitFrom& init, const std::string& source_name);
// Reads init.checkpoint() (a checkpoint file, or a run directory whose latest checkpoint is used)
// and transfers its model tensors; the summary goes to `log` when given.
TransferReport apply_init_from(nn::Module& module, const proto::InitFrom& init,
                               const LogFn& log = {});

// Sets requires_grad false on every parameter matched by a pattern; returns the frozen names in
// the module's order. A pattern matching no parameter is a value error naming it.
std::vector<std::string> apply_freeze(
    nn::Module& module, const google::protobuf::RepeatedPtrField<std::string>& patterns);
std::vector<std::string> apply_freeze(nn::Module& module, const std::vector<std::string>& patterns);

}  // namespace osprey::experiments
