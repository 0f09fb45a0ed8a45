// `osprey demo mlp [--steps N] [--seed S]`: fits a 2 -> 32 -> 1 MLP to a smooth function of two
// variables with full-batch gradient descent on the CPU and prints the loss as it falls — a
// five-second end-to-end check that ops, autograd and the random ops work together.
//
// It is written with the element-wise ops only, so it runs before matmul and the activations
// exist: a linear layer is a broadcast multiply summed over the input dim (sum_to), and the
// activation is the [3/2] Pade approximant of tanh, z (27 + z^2) / (27 + 9 z^2), which is
// monotone (its derivative is 9 (z^2 - 9)^2 / (27 + 9 z^2)^2) and close to tanh for |z| < 3.
#include <cmath>
#include <iostream>
#include <ostream>

#include "experiments/cli/commands.h"
#include "framework/autograd/grad_mode.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"
#include "ops/random/random.h"

namespace osprey::cli {
namespace {

constexpr int64_t kSamples = 256;
constexpr int64_t kHidden = 32;

// x: [N, in], weight: [in, out] -> [N, out], as a sum of broadcast products.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  int64_t n = x.size(0), out = weight.size(1);
  Tensor products = ops::mul(x.unsqueeze(2), weight.unsqueeze(0));  // [N, in, out]
  Tensor summed = ops::sum_to(products, {n, 1, out}).view({n, out});
  return ops::add(summed, bias);
}

Tensor pade_tanh(const Tensor& z) {
  Tensor z2 = ops::mul(z, z);
  return ops::div(ops::mul(z, ops::affine(z2, 1.0, 27.0)), ops::affine(z2, 9.0, 27.0));
}

Tensor mse(const Tensor& prediction, const Tensor& target) {
  Tensor d = ops::sub(prediction, target);
  return ops::affine(ops::sum_to(ops::mul(d, d), {}), 1.0 / static_cast<double>(d.numel()));
}

}  // namespace

std::pair<double, double> run_demo_mlp(const DemoMlpOptions& options, std::ostream& out) {
  OSPREY_CHECK(options.steps >= 0, "--steps must be non-negative, got {}", options.steps);
  random::Generator generator(options.seed);
  // Data: x uniform in [-2, 2]^2, y = sin(x0) cos(x1) + noise.
  Tensor x = ops::uniform({kSamples, 2}, -2.0, 2.0, generator);
  Tensor noise = ops::normal({kSamples, 1}, 0.0, 0.02, generator);
  auto xs = x.to_vector<float>();
  std::vector<float> ys(kSamples);
  for (int64_t i = 0; i < kSamples; ++i) ys[i] = std::sin(xs[2 * i]) * std::cos(xs[2 * i + 1]);
  Tensor y = ops::add(Tensor::from_vector<float>(ys, {kSamples, 1}), noise);

  // Parameters with variance-preserving initialisation.
  Tensor w1 = ops::normal({2, kHidden}, 0.0, 1.0 / std::sqrt(2.0), generator).set_requires_grad();
  Tensor b1 = Tensor::empty({kHidden}).zero_().set_requires_grad();
  Tensor w2 = ops::normal({kHidden, 1}, 0.0, 1.0 / std::sqrt(double(kHidden)), generator)
                  .set_requires_grad();
  Tensor b2 = Tensor::empty({1}).zero_().set_requires_grad();
  std::vector<Tensor> params = {w1, b1, w2, b2};

  const double learning_rate = 0.1;
  int every = options.print_every > 0 ? options.print_every : std::max(1, options.steps / 10);
  out << fmt::format("demo mlp: 2 -> {} -> 1, pade-tanh, {} samples, lr {}, {} steps, seed {}\n",
                     kHidden, kSamples, learning_rate, options.steps, options.seed);
  double first = 0, last = 0;
  for (int step = 0; step <= options.steps; ++step) {
    Tensor loss = mse(linear(pade_tanh(linear(x, w1, b1)), w2, b2), y);
    last = loss.item<float>();
    if (step == 0) first = last;
    if (step % every == 0 || step == options.steps) {
      out << fmt::format("step {:>5}  loss {:.6f}\n", step, last);
    }
    if (step == options.steps) break;
    loss.backward();
    autograd::NoGradGuard no_grad;
    for (auto& p : params) {
      ops::add_(p, p.grad(), -learning_rate);
      p.zero_grad();
    }
  }
  return {first, last};
}

void add_demo_command(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "small end-to-end demonstrations");
  demo->require_subcommand(1);
  auto* mlp = demo->add_subcommand("mlp", "fit a small MLP with gradient descent on the CPU");
  auto options = std::make_shared<DemoMlpOptions>();
  mlp->add_option("--steps", options->steps, "gradient steps")->default_val(300);
  mlp->add_option("--seed", options->seed, "seed of data and initialisation")->default_val(0);
  mlp->add_option("--print-every", options->print_every, "steps between loss lines (0: auto)");
  mlp->callback([options] { run_demo_mlp(*options, std::cout); });
}

}  // namespace osprey::cli
