// Known values of sigmoid_focal_loss (torchvision's formula) and of sigmoid_cross_entropy (its
// gamma = 0, alpha < 0 case), weights, gradients and error paths.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/autograd/engine.h"
#include "ops/sigmoid_focal_loss/sigmoid_focal_loss.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::SigmoidFocalLossOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

// Logits (0, 2, −1) with targets (1, 0, 1).
Tensor logits() {
  return Tensor::from_vector<double>({0, 2, -1}, {3});
}
Tensor labels() {
  return Tensor::from_vector<double>({1, 0, 1}, {3});
}

TEST(SigmoidFocalLoss, KnownValues) {
  // Element 0: p = 0.5, ce = log 2, 1 − p_t = 0.5, α_t = 0.25.
  // Element 1: t = 0, ce = log(1 + e²), 1 − p_t = σ(2), α_t = 0.75.
  // Element 2: t = 1, ce = log(1 + e), 1 − p_t = 1 − σ(−1), α_t = 0.25.
  const double l0 = 0.25 * std::log(2.0) * 0.25;
  const double l1 = 0.75 * std::log(1 + std::exp(2.0)) * std::pow(sigmoid(2), 2);
  const double l2 = 0.25 * std::log(1 + std::exp(1.0)) * std::pow(1 - sigmoid(-1), 2);
  for_each_cpu_kernel("sigmoid_focal_loss", [&] {
    auto v = ops::sigmoid_focal_loss(logits(), labels()).to_vector<double>();
    ASSERT_EQ(v.size(), 3u);
    EXPECT_NEAR(v[0], l0, 1e-14);
    EXPECT_NEAR(v[1], l1, 1e-14);
    EXPECT_NEAR(v[2], l2, 1e-14);
    EXPECT_NEAR(ops::sigmoid_focal_loss(logits(), labels(), {{}, 0.25, 2.0, "sum"}).item<double>(),
                l0 + l1 + l2, 1e-14);
    auto w = Tensor::from_vector<double>({2, 0, 0.5}, {3});
    EXPECT_NEAR(ops::sigmoid_focal_loss(logits(), labels(), {w, 0.25, 2.0, "mean"}).item<double>(),
                (2 * l0 + 0.5 * l2) / 3, 1e-14);
  });
}

TEST(SigmoidFocalLoss, GammaZeroIsCrossEntropy) {
  const double ce0 = std::log(2.0), ce1 = std::log(1 + std::exp(2.0)),
               ce2 = std::log(1 + std::exp(1.0));
  for_each_cpu_kernel("sigmoid_focal_loss", [&] {
    auto v = ops::sigmoid_cross_entropy(logits(), labels(), {}, "none").to_vector<double>();
    EXPECT_NEAR(v[0], ce0, 1e-14);
    EXPECT_NEAR(v[1], ce1, 1e-14);
    EXPECT_NEAR(v[2], ce2, 1e-14);
    auto w = Tensor::from_vector<double>({1, 0, 3}, {3});
    EXPECT_NEAR(ops::sigmoid_cross_entropy(logits(), labels(), w, "sum").item<double>(),
                ce0 + 3 * ce2, 1e-14);
    // A soft target: −0.3·log σ(2) − 0.7·log(1 − σ(2)).
    auto soft = ops::sigmoid_cross_entropy(Tensor::from_vector<double>({2}, {1}),
                                           Tensor::from_vector<double>({0.3}, {1}));
    EXPECT_NEAR(soft.item<double>(), -0.3 * std::log(sigmoid(2)) - 0.7 * std::log(1 - sigmoid(2)),
                1e-14);
  });
}

TEST(SigmoidFocalLoss, Gradients) {
  for_each_cpu_kernel("sigmoid_focal_loss_backward", [&] {
    // Cross-entropy: d/dx = w · (σ(x) − t).
    Tensor x = logits();
    x.set_requires_grad(true);
    auto w = Tensor::from_vector<double>({1, 2, 0.5}, {3});
    ops::sigmoid_cross_entropy(x, labels(), w, "sum").backward();
    auto g = x.grad().to_vector<double>();
    EXPECT_NEAR(g[0], -0.5, 1e-14);
    EXPECT_NEAR(g[1], 2 * sigmoid(2), 1e-14);
    EXPECT_NEAR(g[2], 0.5 * (sigmoid(-1) - 1), 1e-14);
    // Focal at x = 0, t = 1: α_t (p − t) m^γ + α_t ce γ m p (1 − p)(1 − 2t)
    //   = 0.25 · (−0.5 · 0.25 − log 2 · 2 · 0.5 · 0.25).
    Tensor z = Tensor::from_vector<double>({0}, {1});
    z.set_requires_grad(true);
    ops::sigmoid_focal_loss(z, Tensor::from_vector<double>({1}, {1}), {{}, 0.25, 2.0, "sum"})
        .backward();
    EXPECT_NEAR(z.grad().item<double>(), 0.25 * (-0.125 - std::log(2.0) * 0.25), 1e-14);
  });
}

TEST(SigmoidFocalLoss, EmptyInput) {
  Tensor empty = Tensor::empty({0, 3}, DType::f64);
  EXPECT_EQ(ops::sigmoid_focal_loss(empty, empty, {{}, 0.25, 2.0, "sum"}).item<double>(), 0.0);
  EXPECT_TRUE(
      std::isnan(ops::sigmoid_focal_loss(empty, empty, {{}, 0.25, 2.0, "mean"}).item<double>()));
}

#define EXPECT_MESSAGE(msg, text) EXPECT_NE((msg).find(text), std::string::npos) << (msg)

std::string focal_error(const Tensor& target, const SigmoidFocalLossOptions& o = {}) {
  return error_message([&] { ops::sigmoid_focal_loss(logits(), target, o); });
}

TEST(SigmoidFocalLossErrors, WeightShapeMismatch) {
  auto msg = focal_error(labels(), {Tensor::from_vector<double>({1, 0}, {2})});
  EXPECT_MESSAGE(msg, "sigmoid_focal_loss: weight");
  EXPECT_MESSAGE(msg, "must have input's shape");
}

TEST(SigmoidFocalLossErrors, TargetShapeMismatch) {
  EXPECT_MESSAGE(focal_error(Tensor::from_vector<double>({1, 0}, {2})),
                 "sigmoid_focal_loss: target");
}

TEST(SigmoidFocalLossErrors, AlphaAboveOne) {
  EXPECT_MESSAGE(focal_error(labels(), {{}, 1.5}), "sigmoid_focal_loss: alpha must be in [0, 1]");
}

TEST(SigmoidFocalLossErrors, NegativeGamma) {
  EXPECT_MESSAGE(focal_error(labels(), {{}, 0.25, -1.0}),
                 "sigmoid_focal_loss: gamma must be finite and >= 0");
}

TEST(SigmoidFocalLossErrors, UnknownReduction) {
  auto msg = error_message([&] { ops::sigmoid_cross_entropy(logits(), labels(), {}, "all"); });
  EXPECT_MESSAGE(msg, "sigmoid_focal_loss: reduction must be");
}

}  // namespace
}  // namespace osprey
