// `osprey eval SPEC --checkpoint FILE [--out FILE] [--set ...]`: top-k accuracy and mean loss of a
// checkpoint's model on the spec's test_data; printed and written as one JSON object.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/train_commands.h"
#include "experiments/spec/validate.h"
#include "experiments/train/run_files.h"
#include "experiments/train/run_setup.h"
#include "framework/core/error.h"

namespace osprey::cli {

experiments::CheckpointEval run_eval_command(const EvalCommandOptions& options, std::ostream& out,
                                             experiments::ModelBuilder build_model) {
  proto::Experiment spec = experiments::load_spec_file(options.spec);
  experiments::apply_overrides(spec, options.sets);
  if (!options.sets.empty()) experiments::validate_spec(spec, options.spec + " with --set");
  experiments::CheckpointEval eval =
      experiments::evaluate_checkpoint(spec, options.checkpoint, std::move(build_model));
  std::string path = options.out.empty() ? options.checkpoint + ".eval.json" : options.out;
  std::ofstream file(path);
  file << eval.json() << "\n";
  OSPREY_CHECK_KIND(io, file.good(), "eval: cannot write {}", path);
  out << fmt::format("{} (iteration {}): {}\nwritten to {}\n", options.checkpoint, eval.iteration,
                     eval.result.summary(), path);
  return eval;
}

void add_eval_command(CLI::App& app) {
  auto* command = app.add_subcommand("eval", "evaluate a checkpoint on a spec's test_data");
  auto options = std::make_shared<EvalCommandOptions>();
  command->add_option("spec", options->spec, "experiment spec (.prototxt)")->required();
  command->add_option("--checkpoint", options->checkpoint, "checkpoint file")->required();
  command->add_option("--out", options->out, "result JSON (default: CHECKPOINT.eval.json)");
  command->add_option("--set", options->sets, "override a spec field (repeatable)");
  command->callback([options] { run_eval_command(*options, std::cout); });
}

}  // namespace osprey::cli
