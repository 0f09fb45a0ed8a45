// AdamW against a hand-computed first step and a double-precision formula loop (PyTorch's AdamW:
// decoupled decay, bias correction), with per-parameter multipliers and per-parameter step counts.
#include "framework/optim/adamw.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/framework/optim/optim_test_util.h"

namespace osprey::optim {
namespace {

using testing::parameter;
using testing::set_grad;
using testing::values;

// p = 1, g = 0.5, lr 0.1, decay 0.1, betas (0.9, 0.999), eps 1e-8, step 1:
//   p <- 1 * (1 - 0.01) = 0.99;  m = 0.05;  v = 0.00025
//   step size 0.1 / (1 - 0.9) = 1;  denom = sqrt(0.00025) / sqrt(0.001) + 1e-8 = 0.5 + 1e-8
//   p = 0.99 - 0.05 / (0.5 + 1e-8) = 0.89 + 2e-9 (to first order in eps)
TEST(AdamW, FirstStepByHand) {
  Tensor p = parameter({1.0}, {1});
  AdamW adam({{"w", p}}, {.lr = 0.1, .weight_decay = 0.1});
  set_grad(p, {0.5});
  adam.step();
  EXPECT_NEAR(p.item<double>(), 0.89 + 2e-9, 1e-15);
  auto state = adam.state();
  EXPECT_NEAR(state.tensors.at("exp_avg/w").item<double>(), 0.05, 1e-16);
  EXPECT_NEAR(state.tensors.at("exp_avg_sq/w").item<double>(), 0.00025, 1e-18);
  EXPECT_EQ(state.counters.at("step/w"), 1);
}

struct Reference {
  std::vector<double> p{}, m{}, v{};
  int64_t t = 0;
  void step(const std::vector<double>& g, double lr, double wd, double b1, double b2, double eps) {
    if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0);
    ++t;
    const double bc1 = 1.0 - std::pow(b1, double(t)), bc2 = 1.0 - std::pow(b2, double(t));
    for (size_t k = 0; k < p.size(); ++k) {
      p[k] *= 1.0 - lr * wd;
      m[k] = b1 * m[k] + (1.0 - b1) * g[k];
      v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
      p[k] -= lr / bc1 * m[k] / (std::sqrt(v[k]) / std::sqrt(bc2) + eps);
    }
  }
};

std::vector<double> grad_at(int step) {
  return {0.3 - 0.1 * step, -0.2 + 0.05 * step, 0.7, -0.4 * step};
}

TEST(AdamW, ThreeStepsMatchFormula) {
  const std::vector<double> init{0.5, -1.0, 2.0, 0.25};
  for (auto [b1, b2, eps, wd] :
       {std::tuple{0.9, 0.999, 1e-8, 1e-2}, std::tuple{0.5, 0.9, 1e-3, 0.1},
        std::tuple{0.0, 0.0, 1e-6, 0.0}}) {
    Tensor p = parameter(init, {4});
    AdamW adam({{"w", p}}, {.lr = 0.01, .beta1 = b1, .beta2 = b2, .eps = eps, .weight_decay = wd});
    Reference ref{init};
    for (int s = 0; s < 3; ++s) {
      set_grad(p, grad_at(s));
      adam.step();
      ref.step(grad_at(s), 0.01, wd, b1, b2, eps);
      auto got = values(p);
      for (size_t k = 0; k < got.size(); ++k) {
        EXPECT_NEAR(got[k], ref.p[k], 1e-14) << "beta1 " << b1 << " step " << s << " el " << k;
      }
    }
  }
}

TEST(AdamW, MultipliersAndPerParameterSteps) {
  Tensor a = parameter({1.0, -1.0}, {2, 1});
  Tensor bias = parameter({0.5}, {1});
  ParamGroupOptions groups{.rules = {{"head.*", 10.0, 2.0}}, .no_decay_on_norm_and_bias = true};
  AdamW adam({{"head.weight", a}, {"head.bias", bias}}, {.lr = 1e-3, .weight_decay = 0.05}, groups);
  Reference ra{{1.0, -1.0}}, rb{{0.5}};
  for (int s = 0; s < 3; ++s) {
    set_grad(a, {0.1 * (s + 1), -0.3});
    ra.step({0.1 * (s + 1), -0.3}, 1e-2, 0.1, 0.9, 0.999, 1e-8);
    if (s > 0) {  // the bias gets gradients from the second step on: its own t starts at 1
      set_grad(bias, {0.2});
      rb.step({0.2}, 1e-2, 0.0, 0.9, 0.999, 1e-8);
    }
    adam.step();
    bias.zero_grad();
  }
  EXPECT_NEAR(values(a)[0], ra.p[0], 1e-14);
  EXPECT_NEAR(values(a)[1], ra.p[1], 1e-14);
  EXPECT_NEAR(values(bias)[0], rb.p[0], 1e-14);
  EXPECT_EQ(adam.state().counters.at("step/head.bias"), 2);
  EXPECT_EQ(adam.state().counters.at("steps"), 3);
}

TEST(AdamW, Float32FollowsTheDoubleFormula) {
  Tensor p = Tensor::from_vector<float>({0.5f, -1.0f}, {2});
  p.set_requires_grad(true);
  AdamW adam({{"w", p}}, {.lr = 0.01});
  Reference ref{{0.5, -1.0}};
  for (int s = 0; s < 3; ++s) {
    p.set_grad(Tensor::from_vector<float>({0.25f, -0.5f}, {2}));
    adam.step();
    ref.step({0.25, -0.5}, 0.01, 1e-2, 0.9, 0.999, 1e-8);
  }
  auto got = p.to_vector<float>();
  EXPECT_NEAR(got[0], ref.p[0], 1e-6);
  EXPECT_NEAR(got[1], ref.p[1], 1e-6);
}

TEST(AdamW, ArgumentErrors) {
  Tensor a = parameter({1.0}, {1});
  EXPECT_THROW(AdamW({{"a", a}}, {.beta1 = 1.0}), Error);
  EXPECT_THROW(AdamW({{"a", a}}, {.beta2 = -0.1}), Error);
  EXPECT_THROW(AdamW({{"a", a}}, {.eps = -1.0}), Error);
}

}  // namespace
}  // namespace osprey::optim
