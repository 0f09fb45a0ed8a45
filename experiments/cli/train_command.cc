// `osprey train SPEC [--output DIR] [--set field.path=value ...]`: trains the spec's classifier
// into a run directory (see experiments/train/trainer.h) and prints the final evaluation.
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/train_commands.h"
#include "experiments/spec/validate.h"
#include "experiments/train/run_files.h"
#include "experiments/train/run_setup.h"

namespace osprey::cli {

experiments::TrainResult run_train_command(const TrainCommandOptions& options, std::ostream& out,
                                           experiments::ModelBuilder build_model) {
  proto::Experiment spec = experiments::load_spec_file(options.spec);
  experiments::apply_overrides(spec, options.sets);
  if (!options.sets.empty()) experiments::validate_spec(spec, options.spec + " with --set");
  if (!options.output.empty()) spec.set_output_dir(options.output);
  experiments::TrainerOptions trainer_options;
  trainer_options.out = &out;
  trainer_options.build_model = std::move(build_model);
  experiments::Trainer trainer(spec, trainer_options);
  out << fmt::format("training '{}' for {} iterations into {}\n", spec.name(), trainer.max_iter(),
                     trainer.run_dir());
  experiments::TrainResult result = trainer.train();
  if (result.eval) out << "final evaluation: " << result.eval->summary() << "\n";
  return result;
}

void add_train_command(CLI::App& app) {
  auto* command = app.add_subcommand("train", "train a spec's classifier into a run directory");
  auto options = std::make_shared<TrainCommandOptions>();
  command->add_option("spec", options->spec, "experiment spec (.prototxt)")->required();
  command->add_option("--output", options->output, "run directory (default: the spec's)");
  command->add_option("--set", options->sets,
                      "override a spec field, e.g. --set solver.max_iter=30 (repeatable)");
  command->callback([options] { run_train_command(*options, std::cout); });
}

}  // namespace osprey::cli
