// One training step (forward + cross-entropy + backward) of the CIFAR ResNet-20 on Fashion-MNIST
// shaped input: batch 128 × 1 × 28 × 28, 10 classes, on the CPU. Prints each step's time and the
// median; the optimiser update is not included.
//
//   ./build/bench/resnet_step_bench [steps (default 5)] [batch (default 128)]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "framework/core/thread_environment.h"
#include "models/model_factory.h"
#include "ops/ops.h"

int main(int argc, char** argv) {
  using namespace osprey;
  use_passive_openmp_wait(argv);
  const int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 128;
  proto::ModelSpec spec;
  spec.mutable_backbone()->set_preset("resnet20");
  spec.mutable_backbone()->set_in_channels(1);
  spec.mutable_classification_head()->set_num_classes(10);
  random::Generator generator(1);
  auto model = models::build_model(spec, generator);
  model->train();
  const Tensor images = ops::normal({batch, 1, 28, 28}, 0.0, 1.0, generator);
  std::vector<int64_t> label_values(batch);
  for (int64_t i = 0; i < batch; ++i) label_values[i] = i % 10;
  const Tensor labels = Tensor::from_vector(label_values, {batch});
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  std::vector<double> seconds;
  for (int step = 0; step <= steps; ++step) {  // step 0 warms up
    model->zero_grad();
    const auto start = Clock::now();
    const Tensor loss = ops::cross_entropy((*model)(images), labels);
    const double forward = since(start);
    loss.backward();
    const double elapsed = since(start);
    if (step > 0) seconds.push_back(elapsed);
    fmt::print("step {}: {:.3f} s (forward {:.3f} s, backward {:.3f} s){}\n", step, elapsed,
               forward, elapsed - forward, step == 0 ? " (warm-up)" : "");
  }
  std::sort(seconds.begin(), seconds.end());
  fmt::print("resnet20 batch {} 1x28x28 forward+backward: median {:.3f} s, best {:.3f} s\n", batch,
             seconds[seconds.size() / 2], seconds.front());
}
