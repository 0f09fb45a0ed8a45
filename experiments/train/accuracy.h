// Classification accuracy: top-k counts accumulated over batches, and the evaluation of a model on
// a loader (mean cross-entropy and top-k accuracy, in eval mode, without recording gradients).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/nn/module.h"

namespace osprey::data {
class DataLoader;
}

namespace osprey::experiments {

// Counts, for each k, the examples whose label is among the k highest logits. The label's rank is
// the number of classes scoring higher plus the classes before it scoring the same (a tie is
// broken by class index, as a stable sort would); correct when rank < k. A NaN logit of the label
// is never correct; k above the class count always is.
class TopKCounter {
 public:
  explicit TopKCounter(std::vector<int> top_k);
  // logits: N×C floating, labels: i64 N (any device; copied to the host).
  void add(const Tensor& logits, const Tensor& labels);
  int64_t examples() const { return examples_; }
  const std::vector<int>& top_k() const { return top_k_; }
  int64_t correct(int k) const;  // k must be one of top_k
  double accuracy(int k) const;  // correct / examples, 0 with no examples

 private:
  std::vector<int> top_k_;
  std::vector<int64_t> correct_;
  int64_t examples_ = 0;
};

struct EvalResult {
  int64_t examples = 0;
  double mean_loss = 0;
  std::map<int, double> accuracy;  // by k, in [0, 1]
  // "top1 91.23%  top5 99.80%  loss 0.2512  (10000 images)"
  std::string summary() const;
};

// Runs one epoch of `loader` (from its start; it is left at the next epoch's start) through
// `model` in eval mode under NoGradGuard, on `device`, images in `format`. The model's training
// mode is restored.
EvalResult evaluate_classifier(nn::Module& model, data::DataLoader& loader,
                               const std::vector<int>& top_k, Device device,
                               MemoryFormat format = MemoryFormat::contiguous);

}  // namespace osprey::experiments
