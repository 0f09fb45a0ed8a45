// Known values (every reduction, weights, ignore_index, label smoothing), the all-ignored NaN,
// gradients and error paths of cross_entropy and cross_entropy_backward.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/cross_entropy/cross_entropy.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::CrossEntropyOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

// The 2 x 3 example: row 0 = (1, 2, 3) with target 2, row 1 = (1, 1, 1) with target 0, so
//   lp[0] = (1, 2, 3) - lse0 with lse0 = log(e + e² + e³),   lp[1] = -log 3 everywhere.
Tensor logits() {
  return Tensor::from_vector<double>({1, 2, 3, 1, 1, 1}, {2, 3});
}
Tensor labels(std::vector<int64_t> t = {2, 0}) {
  return Tensor::from_vector<int64_t>(t, {2});
}
Tensor class_weights() {
  return Tensor::from_vector<double>({0.5, 1, 2}, {3});
}
const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
const double log3 = std::log(3.0);

CrossEntropyOptions with(std::string reduction, Tensor weight = {}, int64_t ignore = -100,
                         double smoothing = 0.0) {
  return {std::move(weight), ignore, smoothing, std::move(reduction), {}};
}

double loss(const Tensor& target, const CrossEntropyOptions& o) {
  return ops::cross_entropy(logits(), target, o).item<double>();
}

TEST(CrossEntropy, Reductions) {
  for_each_cpu_kernel("cross_entropy", [&] {
    auto none = ops::cross_entropy(logits(), labels(), with("none"));
    EXPECT_EQ(none.shape(), Shape({2}));
    auto v = none.to_vector<double>();
    EXPECT_NEAR(v[0], lse0 - 3, 1e-12);
    EXPECT_NEAR(v[1], log3, 1e-12);
    EXPECT_NEAR(loss(labels(), with("sum")), lse0 - 3 + log3, 1e-12);
    EXPECT_NEAR(loss(labels(), with("mean")), (lse0 - 3 + log3) / 2, 1e-12);
    EXPECT_NEAR(ops::cross_entropy(logits(), labels()).item<double>(), (lse0 - 3 + log3) / 2,
                1e-12);
  });
}

TEST(CrossEntropy, ClassWeights) {
  // Row 0 weighs w[2] = 2, row 1 w[0] = 0.5; "mean" divides by 2 + 0.5.
  for_each_cpu_kernel("cross_entropy", [&] {
    auto v =
        ops::cross_entropy(logits(), labels(), with("none", class_weights())).to_vector<double>();
    EXPECT_NEAR(v[0], 2 * (lse0 - 3), 1e-12);
    EXPECT_NEAR(v[1], 0.5 * log3, 1e-12);
    const double sum = 2 * (lse0 - 3) + 0.5 * log3;
    EXPECT_NEAR(loss(labels(), with("sum", class_weights())), sum, 1e-12);
    EXPECT_NEAR(loss(labels(), with("mean", class_weights())), sum / 2.5, 1e-12);
  });
}

TEST(CrossEntropy, IgnoreIndex) {
  for_each_cpu_kernel("cross_entropy", [&] {
    auto v = ops::cross_entropy(logits(), labels({2, -100}), with("none")).to_vector<double>();
    EXPECT_NEAR(v[0], lse0 - 3, 1e-12);
    EXPECT_EQ(v[1], 0.0);
    // Only the counted target's weight divides.
    EXPECT_NEAR(loss(labels({2, -100}), with("mean", class_weights())), lse0 - 3, 1e-12);
    // An ignore_index inside [0, C) ignores that class.
    EXPECT_NEAR(loss(labels(), with("mean", {}, 0)), lse0 - 3, 1e-12);
  });
}

TEST(CrossEntropy, LabelSmoothing) {
  // ε = 0.3 over C = 3: loss = 0.7 · nll + 0.1 · Σ_c -w[c] lp[c].
  const double smooth0 = (lse0 - 1) + (lse0 - 2) + (lse0 - 3);
  const double loss0 = 0.7 * (lse0 - 3) + 0.1 * smooth0;
  const double loss1 = 0.7 * log3 + 0.1 * 3 * log3;
  const double wsmooth0 = 0.5 * (lse0 - 1) + 1 * (lse0 - 2) + 2 * (lse0 - 3);
  const double wloss0 = 0.7 * 2 * (lse0 - 3) + 0.1 * wsmooth0;
  const double wloss1 = 0.7 * 0.5 * log3 + 0.1 * 3.5 * log3;
  for_each_cpu_kernel("cross_entropy", [&] {
    auto v =
        ops::cross_entropy(logits(), labels(), with("none", {}, -100, 0.3)).to_vector<double>();
    EXPECT_NEAR(v[0], loss0, 1e-12);
    EXPECT_NEAR(v[1], loss1, 1e-12);
    EXPECT_NEAR(loss(labels(), with("mean", {}, -100, 0.3)), (loss0 + loss1) / 2, 1e-12);
    EXPECT_NEAR(loss(labels(), with("sum", class_weights(), -100, 0.3)), wloss0 + wloss1, 1e-12);
    EXPECT_NEAR(loss(labels(), with("mean", class_weights(), -100, 0.3)), (wloss0 + wloss1) / 2.5,
                1e-12);
    // Ignored positions add no smoothing term either.
    EXPECT_NEAR(loss(labels({2, -100}), with("sum", {}, -100, 0.3)), loss0, 1e-12);
  });
}

TEST(CrossEntropy, AllIgnoredMeanIsNaN) {
  // "mean" divides 0 by a total weight of 0, as PyTorch does; "sum" stays 0.
  for_each_cpu_kernel("cross_entropy", [&] {
    EXPECT_TRUE(std::isnan(loss(labels({-100, -100}), with("mean"))));
    EXPECT_EQ(loss(labels({-100, -100}), with("sum")), 0.0);
    // The gradient of ignored positions is 0 even then.
    Tensor g = Tensor::scalar<double>(1.0);
    auto dx = ops::cross_entropy_backward(g, logits(), labels({-100, -100}), with("mean"));
    for (double v : dx.to_vector<double>()) EXPECT_EQ(v, 0.0);
  });
}

TEST(CrossEntropy, SpatialAndUnbatched) {
  // N x C x d: position (n, d) is the row input[n, :, d].
  Tensor x = Tensor::from_vector<double>({1, 1, 2, 1, 3, 1}, {1, 3, 2});
  Tensor t = Tensor::from_vector<int64_t>({2, 0}, {1, 2});
  auto v = ops::cross_entropy(x, t, with("none")).to_vector<double>();
  EXPECT_NEAR(v[0], lse0 - 3, 1e-12);
  EXPECT_NEAR(v[1], log3, 1e-12);
  Tensor row = Tensor::from_vector<double>({1, 2, 3}, {3});
  EXPECT_NEAR(ops::cross_entropy(row, Tensor::scalar<int64_t>(2)).item<double>(), lse0 - 3, 1e-12);
}

TEST(CrossEntropy, Gradient) {
  // Unsmoothed and unweighted, d loss / d x = (softmax(x) - onehot(t)) / N for "mean".
  const double p0[3] = {std::exp(1 - lse0), std::exp(2 - lse0), std::exp(3 - lse0)};
  for_each_cpu_kernel("cross_entropy_backward", [&] {
    Tensor g = Tensor::scalar<double>(2.0);
    auto dx = ops::cross_entropy_backward(g, logits(), labels(), with("mean")).to_vector<double>();
    EXPECT_NEAR(dx[0], p0[0], 1e-12);
    EXPECT_NEAR(dx[1], p0[1], 1e-12);
    EXPECT_NEAR(dx[2], p0[2] - 1, 1e-12);
    EXPECT_NEAR(dx[3], 1.0 / 3 - 1, 1e-12);
    EXPECT_NEAR(dx[4], 1.0 / 3, 1e-12);
  });
  // Through autograd.
  Tensor x = logits();
  x.set_requires_grad();
  ops::cross_entropy(x, labels(), with("sum")).backward();
  auto dx = x.grad().to_vector<double>();
  EXPECT_NEAR(dx[2], p0[2] - 1, 1e-12);
  EXPECT_NEAR(dx[5], 1.0 / 3, 1e-12);
}

TEST(CrossEntropy, Errors) {
  auto message = [](const Tensor& x, const Tensor& t, CrossEntropyOptions o = {}) {
    return error_message([&] { ops::cross_entropy(x, t, o); });
  };
  std::string m = message(logits(), labels({3, 0}));
  EXPECT_NE(m.find("cross_entropy"), std::string::npos) << m;
  EXPECT_NE(m.find("target value 3"), std::string::npos) << m;
  m = message(logits(), labels({0, -1}));
  EXPECT_NE(m.find("target value -1"), std::string::npos) << m;
  m = error_message([&] {
    ops::cross_entropy_backward(Tensor::scalar<double>(1.0), logits(), labels({5, 0}));
  });
  EXPECT_NE(m.find("cross_entropy_backward: target value 5"), std::string::npos) << m;
  m = message(logits(), Tensor::from_vector<double>({2, 0}, {2}));
  EXPECT_NE(m.find("target"), std::string::npos) << m;
  EXPECT_NE(m.find("i64"), std::string::npos) << m;
  m = message(logits(), Tensor::from_vector<int64_t>({2, 0, 1}, {3}));
  EXPECT_NE(m.find("target"), std::string::npos) << m;
  m = message(logits(), labels(), with("mean", Tensor::from_vector<double>({1, 1}, {2})));
  EXPECT_NE(m.find("weight"), std::string::npos) << m;
  m = message(logits(), labels(), with("average"));
  EXPECT_NE(m.find("reduction"), std::string::npos) << m;
  m = message(logits(), labels(), with("mean", {}, -100, 1.5));
  EXPECT_NE(m.find("label_smoothing"), std::string::npos) << m;
  m = error_message([&] {
    ops::cross_entropy_backward(Tensor::scalar<double>(1.0), logits(), labels(), with("none"));
  });
  EXPECT_NE(m.find("grad_output"), std::string::npos) << m;
}

// Per-position weights e = (2, 0.5) on the 2 x 3 example (losses lse0 − 3 and log 3).
Tensor element_weights() {
  return Tensor::from_vector<double>({2, 0.5}, {2});
}
CrossEntropyOptions with_elements(std::string reduction, Tensor weight = {}) {
  CrossEntropyOptions o = with(std::move(reduction), std::move(weight));
  o.element_weight = element_weights();
  return o;
}

TEST(CrossEntropy, ElementWeights) {
  const double l0 = lse0 - 3, l1 = log3;
  for_each_cpu_kernel("cross_entropy", [&] {
    auto v = ops::cross_entropy(logits(), labels(), with_elements("none")).to_vector<double>();
    EXPECT_NEAR(v[0], 2 * l0, 1e-12);
    EXPECT_NEAR(v[1], 0.5 * l1, 1e-12);
    EXPECT_NEAR(loss(labels(), with_elements("sum")), 2 * l0 + 0.5 * l1, 1e-12);
    // "mean" divides by Σ e_n (no class weights) ...
    EXPECT_NEAR(loss(labels(), with_elements("mean")), (2 * l0 + 0.5 * l1) / 2.5, 1e-12);
    // ... and by Σ e_n · w[t_n] with them: 2 · 2 + 0.5 · 0.5.
    EXPECT_NEAR(loss(labels(), with_elements("mean", class_weights())),
                (2 * 2 * l0 + 0.5 * 0.5 * l1) / 4.25, 1e-12);
    // A zero weight drops a position from the loss and from the "mean" divisor.
    CrossEntropyOptions o = with("mean");
    o.element_weight = Tensor::from_vector<double>({0, 1}, {2});
    EXPECT_NEAR(loss(labels(), o), l1, 1e-12);
  });
}

TEST(CrossEntropy, ValidNormalization) {
  const double l0 = lse0 - 3, l1 = log3;
  for_each_cpu_kernel("cross_entropy", [&] {
    // The plain count of non-ignored positions, whatever the weights.
    EXPECT_NEAR(loss(labels(), with("valid")), (l0 + l1) / 2, 1e-12);
    EXPECT_NEAR(loss(labels(), with("valid", class_weights())), (2 * l0 + 0.5 * l1) / 2, 1e-12);
    EXPECT_NEAR(loss(labels(), with_elements("valid", class_weights())),
                (2 * 2 * l0 + 0.5 * 0.5 * l1) / 2, 1e-12);
    EXPECT_NEAR(loss(labels({2, -100}), with("valid")), l0, 1e-12);
    EXPECT_NEAR(loss(labels({-100, 0}), with("valid", class_weights(), -100, 0.0)), 0.5 * l1,
                1e-12);
    // All ignored: 0 / max(1, 0) = 0, not NaN (MXNet's rule), and a zero gradient.
    EXPECT_EQ(loss(labels({-100, -100}), with("valid")), 0.0);
    Tensor x = logits();
    x.set_requires_grad(true);
    ops::cross_entropy(x, labels({-100, -100}), with("valid")).backward();
    EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(6, 0.0));
  });
}

TEST(CrossEntropy, ElementWeightGradientScalesRows) {
  for_each_cpu_kernel("cross_entropy_backward", [&] {
    auto plain =
        ops::cross_entropy_backward(Tensor::scalar<double>(1.0), logits(), labels(), with("sum"))
            .to_vector<double>();
    auto weighted = ops::cross_entropy_backward(Tensor::scalar<double>(1.0), logits(), labels(),
                                                with_elements("sum"))
                        .to_vector<double>();
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(weighted[c], 2 * plain[c], 1e-12);
      EXPECT_NEAR(weighted[3 + c], 0.5 * plain[3 + c], 1e-12);
    }
    // "valid" with one ignored position: the kept row's gradient divided by 1.
    auto valid = ops::cross_entropy_backward(Tensor::scalar<double>(1.0), logits(),
                                             labels({2, -100}), with("valid"))
                     .to_vector<double>();
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(valid[c], plain[c], 1e-12);
    for (int c = 3; c < 6; ++c) EXPECT_EQ(valid[c], 0.0);
  });
}

TEST(CrossEntropy, ElementWeightShapeMismatch) {
  CrossEntropyOptions o = with("mean");
  o.element_weight = Tensor::from_vector<double>({1, 1, 1}, {3});
  auto m = error_message([&] { ops::cross_entropy(logits(), labels(), o); });
  EXPECT_NE(m.find("cross_entropy: element_weight"), std::string::npos) << m;
  EXPECT_NE(m.find("must be shaped like target"), std::string::npos) << m;
}

TEST(CrossEntropy, ElementWeightDtypeMismatch) {
  CrossEntropyOptions o = with("mean");
  o.element_weight = Tensor::from_vector<float>({1, 1}, {2});
  auto m = error_message([&] { ops::cross_entropy(logits(), labels(), o); });
  EXPECT_NE(m.find("cross_entropy: element_weight"), std::string::npos) << m;
  EXPECT_NE(m.find("must have input's dtype"), std::string::npos) << m;
}

TEST(CrossEntropy, UnknownReductionListsValid) {
  auto m = error_message([&] { ops::cross_entropy(logits(), labels(), with("normalized")); });
  EXPECT_NE(m.find("'mean', 'sum', 'none' or 'valid'"), std::string::npos) << m;
}

}  // namespace
}  // namespace osprey
