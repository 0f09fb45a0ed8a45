#include "experiments/train/accuracy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "data/loader.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/error.h"
#include "ops/cross_entropy/cross_entropy.h"

namespace osprey::experiments {

TopKCounter::TopKCounter(std::vector<int> top_k) : top_k_(std::move(top_k)) {
  OSPREY_CHECK(!top_k_.empty(), "top-k accuracy needs at least one k");
  for (int k : top_k_) OSPREY_CHECK(k >= 1, "top-k accuracy: k must be at least 1, got {}", k);
  correct_.assign(top_k_.size(), 0);
}

void TopKCounter::add(const Tensor& logits, const Tensor& labels) {
  OSPREY_CHECK_KIND(shape,
                    logits.dim() == 2 && labels.dim() == 1 && labels.size(0) == logits.size(0),
                    "top-k accuracy needs N×C logits and N labels, got {} and {}",
                    logits.describe(), labels.describe());
  const int64_t n = logits.size(0), c = logits.size(1);
  std::vector<double> scores = logits.to(Device::cpu(), DType::f64).to_vector<double>();
  std::vector<int64_t> targets = labels.to(Device::cpu(), DType::i64).to_vector<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t t = targets[i];
    OSPREY_CHECK(t >= 0 && t < c, "top-k accuracy: label {} of example {} is outside [0, {})", t, i,
                 c);
    const double* row = scores.data() + i * c;
    double target_score = row[t];
    int64_t rank = 0;
    if (std::isnan(target_score)) {
      rank = c;
    } else {
      for (int64_t j = 0; j < c; ++j) {
        if (row[j] > target_score || (j < t && row[j] == target_score)) ++rank;
      }
    }
    for (size_t q = 0; q < top_k_.size(); ++q) correct_[q] += rank < top_k_[q] ? 1 : 0;
  }
  examples_ += n;
}

int64_t TopKCounter::correct(int k) const {
  auto it = std::find(top_k_.begin(), top_k_.end(), k);
  OSPREY_CHECK(it != top_k_.end(), "top-k accuracy: k = {} was not counted", k);
  return correct_[it - top_k_.begin()];
}

double TopKCounter::accuracy(int k) const {
  return examples_ == 0 ? 0.0 : static_cast<double>(correct(k)) / examples_;
}

std::string EvalResult::summary() const {
  std::string text;
  for (const auto& [k, value] : accuracy) text += fmt::format("top{} {:.2f}%  ", k, 100 * value);
  return text + fmt::format("loss {:.4f}  ({} images)", mean_loss, examples);
}

EvalResult evaluate_classifier(nn::Module& model, data::DataLoader& loader,
                               const std::vector<int>& top_k, Device device, MemoryFormat format) {
  bool was_training = model.is_training();
  model.eval();
  autograd::NoGradGuard no_grad;
  TopKCounter counter(top_k);
  double loss_sum = 0;
  ops::CrossEntropyOptions sum;
  sum.reduction = "sum";
  loader.set_position({loader.position().epoch, 0});
  while (auto batch = loader.next()) {
    Tensor labels = batch->labels.to(device);
    Tensor logits = model(batch->images.to(device).contiguous(format));
    loss_sum += ops::cross_entropy(logits, labels, sum).to(DType::f64).item<double>();
    counter.add(logits, labels);
  }
  model.train(was_training);
  EvalResult result;
  result.examples = counter.examples();
  result.mean_loss = result.examples > 0 ? loss_sum / result.examples : 0.0;
  for (int k : top_k) result.accuracy[k] = counter.accuracy(k);
  return result;
}

}  // namespace osprey::experiments
