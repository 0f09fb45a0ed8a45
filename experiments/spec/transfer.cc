#include "experiments/spec/transfer.h"

#include <filesystem>
#include <map>
#include <set>

#include "framework/core/error.h"
#include "framework/io/checkpoint.h"
#include "framework/io/tensor_proto.h"
#include "framework/nn/name_pattern.h"

namespace osprey::experiments {
namespace {

std::string renamed(const std::string& name, const proto::InitFrom& init) {
  for (const auto& rule : init.rename()) {
    if (name.compare(0, rule.from().size(), rule.from()) == 0)
      return rule.to() + name.substr(rule.from().size());
  }
  return name;
}

std::string abbreviated(const std::vector<std::string>& names, size_t limit = 8) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > limit) text += fmt::format(", … ({} in all)", names.size());
  return text;
}

}  // namespace

std::string TransferReport::summary() const {
  std::string text = fmt::format(
      "init_from {}: {} matched, {} skipped by pattern, {} absent in the model, {} shape "
      "mismatches, {} model tensors not initialised",
      source, matched.size(), skipped_by_pattern.size(), absent_in_model.size(),
      shape_mismatches.size(), not_initialised.size());
  if (!absent_in_model.empty()) text += "\n  absent in the model: " + abbreviated(absent_in_model);
  if (!shape_mismatches.empty())
    text += "\n  shape mismatches (skipped): " + abbreviated(shape_mismatches);
  if (!not_initialised.empty()) text += "\n  not initialised: " + abbreviated(not_initialised);
  return text;
}

TransferReport transfer_tensors(nn::Module& module, const nn::NamedTensors& source,
                                const proto::InitFrom& init, const std::string& source_name) {
  const std::vector<std::string> include(init.include().begin(), init.include().end());
  const std::vector<std::string> exclude(init.exclude().begin(), init.exclude().end());
  std::map<std::string, Tensor> model_state;
  const nn::NamedTensors state = module.state_dict();
  for (const auto& [name, tensor] : state) model_state.emplace(name, tensor);

  TransferReport report;
  report.source = source_name;
  nn::NamedTensors to_load;
  std::set<std::string> seen;
  std::vector<std::string> mismatch_errors;
  for (const auto& [original, tensor] : source) {
    const std::string name = renamed(original, init);
    OSPREY_CHECK(seen.insert(name).second,
                 "init_from {}: two checkpoint tensors map to '{}' after rename (one is '{}')",
                 source_name, name, original);
    const bool included = include.empty() || nn::name_matches_any(include, name);
    if (!included || nn::name_matches_any(exclude, name)) {
      report.skipped_by_pattern.push_back(name);
      continue;
    }
    auto it = model_state.find(name);
    if (it == model_state.end()) {
      report.absent_in_model.push_back(name);
      continue;
    }
    if (tensor.shape() != it->second.shape()) {
      std::string line = fmt::format("{}: checkpoint {} vs model {}", name,
                                     shape_str(tensor.shape()), shape_str(it->second.shape()));
      if (name != original) line += fmt::format(" (checkpoint name '{}')", original);
      report.shape_mismatches.push_back(line);
      continue;
    }
    to_load.emplace_back(name, tensor);
  }
  if (!report.shape_mismatches.empty() && !init.allow_shape_mismatch()) {
    OSPREY_THROW(shape,
                 "init_from {}: {} tensors differ in shape (set allow_shape_mismatch: true to "
                 "skip them, or exclude them):\n  {}",
                 source_name, report.shape_mismatches.size(),
                 fmt::join(report.shape_mismatches, "\n  "));
  }
  nn::LoadReport load = module.load_state_dict(to_load, /*strict=*/false);
  report.matched = std::move(load.loaded);
  report.not_initialised = std::move(load.missing);
  return report;
}

TransferReport apply_init_from(nn::Module& module, const proto::InitFrom& init, const LogFn& log) {
  std::string path = init.checkpoint();
  OSPREY_CHECK(!path.empty(), "init_from: checkpoint must be set");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    auto latest = io::find_latest_checkpoint(path);
    OSPREY_CHECK_KIND(not_found, latest.has_value(),
                      "init_from: run directory {} holds no checkpoint", path);
    path = *latest;
  }
  proto::Checkpoint checkpoint = io::read_checkpoint(path);
  nn::NamedTensors source = io::tensors_from_protos(checkpoint.model(), path);
  TransferReport report = transfer_tensors(module, source, init, path);
  if (log) log(report.summary());
  return report;
}

std::vector<std::string> apply_freeze(nn::Module& module,
                                      const std::vector<std::string>& patterns) {
  nn::NamedTensors parameters = module.named_parameters();
  std::vector<bool> used(patterns.size(), false);
  std::vector<size_t> frozen_index;
  for (size_t p = 0; p < parameters.size(); ++p) {
    bool hit = false;
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (nn::name_matches(patterns[i], parameters[p].first)) {
        used[i] = true;
        hit = true;
      }
    }
    if (hit) frozen_index.push_back(p);
  }
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (used[i]) continue;
    std::vector<std::string> names;
    for (const auto& [name, tensor] : parameters) names.push_back(name);
    OSPREY_THROW(value, "freeze[{}]: pattern '{}' matches no parameter (parameters: {})", i,
                 patterns[i], abbreviated(names, 12));
  }
  // Only after every pattern checked out, so a typo leaves the module as it was.
  std::vector<std::string> frozen;
  for (size_t p : frozen_index) {
    parameters[p].second.set_requires_grad(false);
    frozen.push_back(parameters[p].first);
  }
  return frozen;
}

std::vector<std::string> apply_freeze(
    nn::Module& module, const google::protobuf::RepeatedPtrField<std::string>& patterns) {
  return apply_freeze(module, std::vector<std::string>(patterns.begin(), patterns.end()));
}

}  // namespace osprey::experiments
