// Known values (every reduction, weights, beta = 0 as L1), gradients and error paths of
// smooth_l1_loss and smooth_l1_loss_backward.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/autograd/engine.h"
#include "ops/smooth_l1_loss/smooth_l1_loss.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::SmoothL1LossOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

// d = input − target = (0.5, 2, −3, 0): with β = 1 the losses are (0.125, 1.5, 2.5, 0).
Tensor input() {
  return Tensor::from_vector<double>({0.5, 2, -3, 1}, {2, 2});
}
Tensor target() {
  return Tensor::from_vector<double>({0, 0, 0, 1}, {2, 2});
}
Tensor weight() {
  return Tensor::from_vector<double>({1, 2, 0.5, 3}, {2, 2});
}

TEST(SmoothL1Loss, Reductions) {
  for_each_cpu_kernel("smooth_l1_loss", [&] {
    auto none = ops::smooth_l1_loss(input(), target(), {{}, 1.0, "none"}).to_vector<double>();
    ASSERT_EQ(none.size(), 4u);
    EXPECT_DOUBLE_EQ(none[0], 0.125);
    EXPECT_DOUBLE_EQ(none[1], 1.5);
    EXPECT_DOUBLE_EQ(none[2], 2.5);
    EXPECT_DOUBLE_EQ(none[3], 0.0);
    EXPECT_DOUBLE_EQ(ops::smooth_l1_loss(input(), target(), {{}, 1.0, "sum"}).item<double>(),
                     4.125);
    EXPECT_DOUBLE_EQ(ops::smooth_l1_loss(input(), target()).item<double>(), 4.125 / 4);
  });
}

TEST(SmoothL1Loss, WeightsAndBeta) {
  for_each_cpu_kernel("smooth_l1_loss", [&] {
    // Weighted: 0.125 + 3 + 1.25 + 0; "mean" still divides by numel.
    EXPECT_DOUBLE_EQ(ops::smooth_l1_loss(input(), target(), {weight(), 1.0, "sum"}).item<double>(),
                     4.375);
    EXPECT_DOUBLE_EQ(ops::smooth_l1_loss(input(), target(), {weight(), 1.0, "mean"}).item<double>(),
                     4.375 / 4);
    // β = 0 is L1: 0.5 + 2 + 3 + 0.
    EXPECT_DOUBLE_EQ(ops::smooth_l1_loss(input(), target(), {{}, 0.0, "sum"}).item<double>(), 5.5);
    // β = 4: every |d| is below β, 0.5 d² / 4 = (0.03125, 0.5, 1.125, 0).
    EXPECT_DOUBLE_EQ(ops::smooth_l1_loss(input(), target(), {{}, 4.0, "sum"}).item<double>(),
                     1.65625);
  });
}

TEST(SmoothL1Loss, Gradients) {
  for_each_cpu_kernel("smooth_l1_loss_backward", [&] {
    Tensor x = input();
    x.set_requires_grad(true);
    Tensor t = target();
    t.set_requires_grad(true);
    ops::smooth_l1_loss(x, t, {weight(), 1.0, "sum"}).backward();
    // slope (0.5, 1, −1, 0) times w (1, 2, 0.5, 3); target gets the negative.
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.5, 2, -0.5, 0}));
    EXPECT_EQ(t.grad().to_vector<double>(), (std::vector<double>{-0.5, -2, 0.5, -0.0}));
    Tensor y = input();
    y.set_requires_grad(true);
    ops::smooth_l1_loss(y, target(), {{}, 1.0, "mean"}).backward();
    EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0.125, 0.25, -0.25, 0}));
  });
}

TEST(SmoothL1Loss, EmptyInput) {
  Tensor empty = Tensor::empty({0, 4}, DType::f64);
  EXPECT_EQ(ops::smooth_l1_loss(empty, empty, {{}, 1.0, "sum"}).item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(ops::smooth_l1_loss(empty, empty, {{}, 1.0, "mean"}).item<double>()));
  EXPECT_EQ(ops::smooth_l1_loss(empty, empty, {{}, 1.0, "none"}).shape(), Shape({0, 4}));
}

#define EXPECT_MESSAGE(msg, text) EXPECT_NE((msg).find(text), std::string::npos) << (msg)

std::string loss_error(const Tensor& target_values, const SmoothL1LossOptions& o = {}) {
  return error_message([&] { ops::smooth_l1_loss(input(), target_values, o); });
}

TEST(SmoothL1LossErrors, WeightShapeMismatch) {
  auto msg = loss_error(target(), {Tensor::from_vector<double>({1, 2, 3, 4}, {4})});
  EXPECT_MESSAGE(msg, "smooth_l1_loss: weight");
  EXPECT_MESSAGE(msg, "must have input's shape");
}

TEST(SmoothL1LossErrors, TargetShapeMismatch) {
  EXPECT_MESSAGE(loss_error(Tensor::from_vector<double>({1, 2, 3, 4}, {4})),
                 "smooth_l1_loss: target");
}

TEST(SmoothL1LossErrors, DtypeMismatch) {
  EXPECT_MESSAGE(loss_error(target().to(DType::f32)), "'target'");
}

TEST(SmoothL1LossErrors, NegativeBeta) {
  EXPECT_MESSAGE(loss_error(target(), {{}, -1.0}),
                 "smooth_l1_loss: beta must be finite and >= 0, got -1");
}

TEST(SmoothL1LossErrors, UnknownReduction) {
  EXPECT_MESSAGE(loss_error(target(), {{}, 1.0, "avg"}),
                 "smooth_l1_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'");
}

TEST(SmoothL1LossErrors, GradOutputShape) {
  auto msg = error_message([&] {
    ops::smooth_l1_loss_backward(Tensor::scalar<double>(1.0), input(), target(), {{}, 1.0, "none"});
  });
  EXPECT_MESSAGE(msg, "smooth_l1_loss_backward: grad_output");
}

}  // namespace
}  // namespace osprey
