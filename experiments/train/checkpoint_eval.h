// `osprey eval`: a checkpoint's model evaluated on a spec's test_data, without a run directory.
#pragma once

#include <string>

#include "experiments/proto/osprey.pb.h"
#include "experiments/train/accuracy.h"
#include "experiments/train/trainer.h"

namespace osprey::experiments {

struct CheckpointEval {
  std::string checkpoint;
  int64_t iteration = 0;  // of the checkpoint
  EvalResult result;
  // {"checkpoint": ..., "iteration": N, "examples": N, "loss": x, "top1": x, "top5": x}
  std::string json() const;
};

// Builds the spec's model (an empty builder: default_model_builder()), loads the checkpoint's
// model tensors into it (strictly: a tensor missing or extra is an error naming it) and evaluates
// it on the spec's test_data with eval.top_k (default 1 and 5) and eval.batch_size.
CheckpointEval evaluate_checkpoint(const proto::Experiment& spec, const std::string& checkpoint,
                                   ModelBuilder build_model = {});

}  // namespace osprey::experiments
