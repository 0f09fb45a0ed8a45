// `osprey resume RUN_DIR`: continues a run from its latest checkpoint with its saved spec.
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/train_commands.h"

namespace osprey::cli {

experiments::TrainResult run_resume_command(const std::string& run_dir, std::ostream& out,
                                            experiments::ModelBuilder build_model) {
  experiments::TrainerOptions trainer_options;
  trainer_options.out = &out;
  trainer_options.build_model = std::move(build_model);
  auto trainer = experiments::Trainer::resume(run_dir, trainer_options);
  out << fmt::format("resuming '{}' at iteration {} of {} in {}\n", trainer->spec().name(),
                     trainer->iteration(), trainer->max_iter(), run_dir);
  experiments::TrainResult result = trainer->train();
  if (result.eval) out << "final evaluation: " << result.eval->summary() << "\n";
  return result;
}

void add_resume_command(CLI::App& app) {
  auto* command = app.add_subcommand("resume", "continue a run from its latest checkpoint");
  auto run_dir = std::make_shared<std::string>();
  command->add_option("run_dir", *run_dir, "run directory")->required();
  command->callback([run_dir] { run_resume_command(*run_dir, std::cout); });
}

}  // namespace osprey::cli
