// `osprey demo mlp [--steps N] [--seed S] [--hidden H] [--lr LR] [--device cpu|cuda]`: fits a
// 2 -> H -> 1 tanh MLP to y = sin(x0) + 0.5 x1 + noise with full-batch gradient descent and prints
// the mean squared error as it falls — a few-second end-to-end check that the random ops, linear,
// tanh, mean, autograd and in-place updates work together on a device.
//
// Everything that is random comes from one Philox generator seeded with --seed, so a seed gives
// the same run every time. The data are drawn on the CPU (the targets need sin, which has no op)
// and copied to the device; the parameters are drawn on the device with `uniform`, which gives the
// same bits on CPU and CUDA, so both devices start from the same network.
#include <cmath>
#include <iostream>
#include <ostream>

#include "experiments/cli/commands.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/backend.h"
#include "ops/activation/activation.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/random/random.h"
#include "ops/reduce/reduce.h"

namespace osprey::cli {
namespace {

constexpr int64_t kSamples = 256;
constexpr int64_t kInputs = 2;
constexpr double kNoiseStd = 0.05;

struct Data {
  Tensor x;  // [N, 2], uniform in [-2, 2]
  Tensor y;  // [N, 1]
};

Data make_data(random::Generator& generator, Device device) {
  Tensor x = ops::uniform({kSamples, kInputs}, -2.0, 2.0, generator);
  Tensor noise = ops::normal({kSamples, 1}, 0.0, kNoiseStd, generator);
  auto xs = x.to_vector<float>();
  std::vector<float> ys(kSamples);
  for (int64_t i = 0; i < kSamples; ++i) {
    ys[i] = std::sin(xs[kInputs * i]) + 0.5f * xs[kInputs * i + 1];
  }
  Tensor y = ops::add(Tensor::from_vector<float>(ys, {kSamples, 1}), noise);
  return {x.to(device), y.to(device)};
}

// PyTorch's default for a linear layer: weight and bias uniform in +-1/sqrt(fan_in).
Tensor init_parameter(const Shape& shape, int64_t fan_in, random::Generator& generator,
                      Device device) {
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return ops::uniform(shape, -bound, bound, generator, DType::f32, device).set_requires_grad();
}

struct Mlp {
  Tensor w1, b1, w2, b2;  // linear weights are [out, in]

  Tensor forward(const Tensor& x) const {
    return ops::linear(ops::tanh(ops::linear(x, w1, b1)), w2, b2);
  }
  std::vector<Tensor> parameters() const { return {w1, b1, w2, b2}; }
};

Mlp make_mlp(int64_t hidden, random::Generator& generator, Device device) {
  return {init_parameter({hidden, kInputs}, kInputs, generator, device),
          init_parameter({hidden}, kInputs, generator, device),
          init_parameter({1, hidden}, hidden, generator, device),
          init_parameter({1}, hidden, generator, device)};
}

Tensor mse(const Tensor& prediction, const Tensor& target) {
  Tensor d = ops::sub(prediction, target);
  return ops::mean(ops::mul(d, d));
}

Device demo_device(const std::string& name) {
  Device device = Device::parse(name);
  if (device.is_cuda() && device.index >= cuda_device_count()) {
    OSPREY_THROW(device,
                 "demo mlp: --device {} needs a CUDA device, but this machine has {} (or the "
                 "build has no CUDA support); use --device cpu",
                 device.str(), cuda_device_count());
  }
  return device;
}

}  // namespace

std::pair<double, double> run_demo_mlp(const DemoMlpOptions& options, std::ostream& out) {
  OSPREY_CHECK(options.steps >= 0, "--steps must be non-negative, got {}", options.steps);
  OSPREY_CHECK(options.hidden > 0, "--hidden must be positive, got {}", options.hidden);
  OSPREY_CHECK(std::isfinite(options.lr) && options.lr > 0.0,
               "--lr must be a positive number, got {}", options.lr);
  Device device = demo_device(options.device);
  random::Generator generator(options.seed);
  Data data = make_data(generator, device);
  Mlp mlp = make_mlp(options.hidden, generator, device);
  std::vector<Tensor> params = mlp.parameters();

  int every = options.print_every > 0 ? options.print_every : std::max(1, options.steps / 10);
  out << fmt::format(
      "demo mlp: 2 -> {} -> 1 tanh MLP, y = sin(x0) + 0.5 x1 + noise, {} samples, lr {}, {} "
      "steps, seed {}, {}\n",
      options.hidden, kSamples, options.lr, options.steps, options.seed, device.str());
  double first = 0, last = 0;
  for (int step = 0; step <= options.steps; ++step) {
    Tensor loss = mse(mlp.forward(data.x), data.y);
    bool report = step % every == 0 || step == options.steps;
    if (step == 0 || report) last = loss.item<float>();  // item() waits for the device
    if (step == 0) first = last;
    if (report) out << fmt::format("step {:>5}  loss {:.6f}\n", step, last);
    if (step == options.steps) break;
    loss.backward();
    autograd::NoGradGuard no_grad;
    for (auto& p : params) {
      ops::add_(p, p.grad(), -options.lr);
      p.zero_grad();
    }
  }
  if (std::isfinite(last)) {
    out << fmt::format("final loss {:.6f}, {:.1f}x below the initial {:.6f} ({:.1f}% lower)\n",
                       last, first / std::max(last, 1e-30), first, 100.0 * (1.0 - last / first));
  } else {
    out << fmt::format("final loss {}: training diverged (try a smaller --lr)\n", last);
  }
  return {first, last};
}

void add_demo_command(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "small end-to-end demonstrations");
  demo->require_subcommand(1);
  auto* mlp = demo->add_subcommand("mlp", "fit a small tanh MLP with full-batch gradient descent");
  auto options = std::make_shared<DemoMlpOptions>();
  mlp->add_option("--steps", options->steps, "gradient steps")->default_val(options->steps);
  mlp->add_option("--seed", options->seed, "seed of data and initialisation")->default_val(0);
  mlp->add_option("--hidden", options->hidden, "hidden units")->default_val(options->hidden);
  mlp->add_option("--lr", options->lr, "learning rate")->default_val(options->lr);
  mlp->add_option("--device", options->device, "cpu, cuda or cuda:N")->default_val("cpu");
  mlp->add_option("--print-every", options->print_every, "steps between loss lines (0: auto)");
  mlp->callback([options] { run_demo_mlp(*options, std::cout); });
}

}  // namespace osprey::cli
