#include "experiments/train/checkpoint_eval.h"

#include <fmt/format.h>

#include <cmath>

#include "experiments/train/run_files.h"
#include "experiments/train/run_setup.h"
#include "framework/core/error.h"

namespace osprey::experiments {

namespace {

std::string json_string(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string CheckpointEval::json() const {
  std::string text = fmt::format(
      "{{\"checkpoint\": \"{}\", \"iteration\": {}, \"examples\": {}, \"loss\": {:.17g}",
      json_string(checkpoint), iteration, result.examples, result.mean_loss);
  for (const auto& [k, value] : result.accuracy)
    text += fmt::format(", \"top{}\": {:.17g}", k, value);
  return text + "}";
}

CheckpointEval evaluate_checkpoint(const proto::Experiment& spec, const std::string& checkpoint,
                                   ModelBuilder build_model) {
  OSPREY_CHECK(spec.has_model(), "spec '{}': no model", spec.name());
  OSPREY_CHECK(spec.has_test_data(), "spec '{}': no test_data to evaluate on", spec.name());
  if (!build_model) build_model = default_model_builder();
  proto::Checkpoint saved = read_checkpoint(checkpoint);
  Device device = spec.device() == proto::CUDA ? Device::cuda(spec.device_index()) : Device::cpu();
  random::Generator generator(derive_seed(spec.seed(), "model"));
  std::shared_ptr<nn::Module> model = build_model(spec.model(), generator);
  model->load_state_dict(read_tensors(saved.model(), checkpoint), /*strict=*/true);
  model->to(device);
  auto loader = make_loader(spec.test_data(), derive_seed(spec.seed(), "data"), /*train=*/false,
                            spec.eval().batch_size(), "test_data");
  std::vector<int> top_k(spec.eval().top_k().begin(), spec.eval().top_k().end());
  if (top_k.empty()) top_k = {1, 5};
  CheckpointEval eval;
  eval.checkpoint = checkpoint;
  eval.iteration = saved.iteration();
  MemoryFormat format = spec.model().memory_format() == proto::NHWC ? MemoryFormat::channels_last
                                                                    : MemoryFormat::contiguous;
  eval.result = evaluate_classifier(*model, *loader, top_k, device, format);
  return eval;
}

}  // namespace osprey::experiments
