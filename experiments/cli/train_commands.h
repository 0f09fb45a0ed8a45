// The bodies of `osprey train`, `osprey eval` and `osprey resume`, callable in-process by tests
// (which pass a small model builder; the command line uses the model factory).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "experiments/train/checkpoint_eval.h"
#include "experiments/train/trainer.h"

namespace osprey::cli {

// `osprey train SPEC [--output DIR] [--set field.path=value ...]`
struct TrainCommandOptions {
  std::string spec;
  std::string output;             // overrides spec.output_dir
  std::vector<std::string> sets;  // applied after the spec (and its bases) are loaded
};
experiments::TrainResult run_train_command(const TrainCommandOptions& options, std::ostream& out,
                                           experiments::ModelBuilder build_model = {});

// `osprey eval SPEC --checkpoint FILE [--out FILE] [--set ...]`: prints the result and writes it
// as JSON to --out (default: FILE with ".eval.json" appended).
struct EvalCommandOptions {
  std::string spec;
  std::string checkpoint;
  std::string out;
  std::vector<std::string> sets;
};
experiments::CheckpointEval run_eval_command(const EvalCommandOptions& options, std::ostream& out,
                                             experiments::ModelBuilder build_model = {});

// `osprey resume RUN_DIR`
experiments::TrainResult run_resume_command(const std::string& run_dir, std::ostream& out,
                                            experiments::ModelBuilder build_model = {});

}  // namespace osprey::cli
