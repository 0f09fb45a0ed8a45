// The classification trainer: a spec in, a run directory out.
//
// A run directory holds `spec.prototxt` (the resolved spec), `metrics.csv` and `metrics.jsonl`,
// and the checkpoints (run_files.h). A new Trainer starts a run; Trainer::resume continues one from
// its latest checkpoint with its saved spec, and a resumed run computes bit for bit the losses the
// uninterrupted run would have (on the CPU): the checkpoint holds the model, the optimiser state,
// the states of the random generators, the data loader's position and the iteration, and the
// learning rate is a function of the iteration.
//
// Before training a new run applies the spec's init_from (transfer from another run's checkpoint)
// and its freeze patterns (experiments/spec/transfer.h); its kernel overrides hold for the
// trainer's lifetime. A resumed run freezes the same parameters but takes every value from its
// own checkpoint.
//
// Randomness comes from the spec's seed, one stream per role (derive_seed in run_setup.h):
// "model" initialises the model and then drives its dropout layers, "data" orders the batches and
// draws their augmentation, "default" is the process generator any other random op uses.
//
// Each iteration: forward, cross-entropy, backward, a check that the loss and every gradient are
// finite, optional global-norm clipping, the optimiser step at the schedule's rate for this
// iteration. A non-finite loss or gradient stops the run with an error naming the iteration and
// the first parameter whose gradient went non-finite; no checkpoint is written after it, so the
// last one on disk is the last good state.
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "data/loader.h"
#include "experiments/proto/osprey.pb.h"
#include "experiments/train/accuracy.h"
#include "experiments/train/metrics_writer.h"
#include "experiments/train/progress.h"
#include "framework/nn/module.h"
#include "framework/optim/lr_schedule.h"
#include "framework/optim/optimizer.h"
#include "framework/random/generator.h"

namespace osprey::experiments {

class KernelOverrideGuard;

// Builds the (untrained) model of a spec, drawing its initial weights from `generator`; a model
// may keep the generator for its dropout layers, so it must outlive the model.
using ModelBuilder =
    std::function<std::shared_ptr<nn::Module>(const proto::ModelSpec&, random::Generator&)>;

// The project's model factory (models/model_factory.h).
ModelBuilder default_model_builder();

struct TrainerOptions {
  std::ostream* out = &std::cout;  // progress and messages
  ModelBuilder build_model;        // empty: default_model_builder()
  // Stop (without the end-of-run evaluation and checkpoint) once this many iterations are done;
  // -1: run to the end. Tests use it to cut a run short as a kill would.
  int64_t stop_after = -1;
  // Called after every optimiser step with the iteration just completed (1-based) and its loss.
  std::function<void(int64_t iteration, double loss)> on_iteration;
};

struct TrainResult {
  int64_t iteration = 0;  // completed iterations
  bool finished = false;  // reached max_iter (false: stopped by stop_after)
  double last_loss = 0;
  std::optional<EvalResult> eval;  // the final evaluation (when test_data is set)
  std::string last_checkpoint;     // path, empty when none was written
};

class Trainer {
 public:
  // A new run in the spec's output_dir (default runs/<name>). A directory that already holds
  // checkpoints is an error naming `osprey resume`.
  Trainer(proto::Experiment spec, TrainerOptions options = {});
  // Continues the run in `run_dir` from its latest checkpoint with the spec saved there.
  static std::unique_ptr<Trainer> resume(const std::string& run_dir, TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  TrainResult train();
  // Evaluates on test_data (an error when the spec has none).
  EvalResult evaluate();

  const proto::Experiment& spec() const { return spec_; }
  const std::string& run_dir() const { return run_dir_; }
  int64_t iteration() const { return iteration_; }
  int64_t max_iter() const { return max_iter_; }
  nn::Module& model() { return *model_; }
  optim::Optimizer& optimizer() { return *optimizer_; }

 private:
  struct ResumeFrom;
  Trainer(proto::Experiment spec, TrainerOptions options, const ResumeFrom* resume);
  void restore(const proto::Checkpoint& checkpoint, const std::string& path);
  proto::Checkpoint make_checkpoint() const;
  std::string save_checkpoint();
  EvalResult evaluate_and_record();
  [[noreturn]] void stop_diverged(double loss);

  proto::Experiment spec_;
  TrainerOptions options_;
  std::string run_dir_;
  Device device_;
  MemoryFormat input_format_ = MemoryFormat::contiguous;  // model.memory_format of the images
  random::Generator model_generator_;
  uint64_t data_seed_ = 0;
  std::shared_ptr<nn::Module> model_;
  std::unique_ptr<data::DataLoader> train_loader_;
  std::unique_ptr<data::DataLoader> test_loader_;
  std::vector<int> top_k_;
  int64_t max_iter_ = 0;
  optim::LrSchedule schedule_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  nn::NamedTensors trainable_;
  int64_t iteration_ = 0;
  std::string last_checkpoint_;
  std::map<std::string, double> last_metrics_;
  std::unique_ptr<MetricsWriter> metrics_;
  std::unique_ptr<ProgressDisplay> display_;
  std::unique_ptr<KernelOverrideGuard> kernel_overrides_;  // the spec's kernels, for the run
};

}  // namespace osprey::experiments
