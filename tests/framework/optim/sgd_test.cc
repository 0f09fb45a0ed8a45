// SGD against hand-computed values and a double-precision formula loop (PyTorch's semantics),
// per-parameter multipliers, frozen and gradient-less parameters, and argument errors.
#include "framework/optim/sgd.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/framework/optim/optim_test_util.h"

namespace osprey::optim {
namespace {

using testing::parameter;
using testing::set_grad;
using testing::values;

// Three steps of one scalar parameter p = 1 with gradient 0.5, lr 0.1, momentum 0.9, decay 0.1,
// worked out by hand:
//   d1 = 0.5 + 0.1 * 1 = 0.6,        b1 = 0.6,                   p1 = 1 - 0.06 = 0.94
//   d2 = 0.5 + 0.094 = 0.594,        b2 = 0.54 + 0.594 = 1.134,  p2 = 0.94 - 0.1134 = 0.8266
//   d3 = 0.5 + 0.08266 = 0.58266,    b3 = 1.0206 + 0.58266 = 1.60326, p3 = 0.666274
TEST(Sgd, MomentumAndDecayByHand) {
  Tensor p = parameter({1.0}, {1});
  Sgd sgd({{"w", p}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  const double expected[] = {0.94, 0.8266, 0.666274};
  for (double e : expected) {
    set_grad(p, {0.5});
    sgd.step();
    EXPECT_NEAR(p.item<double>(), e, 1e-12);
  }
  EXPECT_NEAR(sgd.state().tensors.at("momentum_buffer/w").item<double>(), 1.60326, 1e-12);
}

// Nesterov, same setting: d' = d + 0.9 b.
//   d1 = 0.6,  b1 = 0.6,  p1 = 1 - 0.1 * (0.6 + 0.54) = 0.886
//   d2 = 0.5886, b2 = 1.1286, p2 = 0.886 - 0.1 * (0.5886 + 1.01574) = 0.725566
//   d3 = 0.5725566, b3 = 1.5882966, p3 = 0.725566 - 0.1 * 2.00202354 = 0.525363646
TEST(Sgd, NesterovByHand) {
  Tensor p = parameter({1.0}, {1});
  Sgd sgd({{"w", p}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1, .nesterov = true});
  for (double e : {0.886, 0.725566, 0.525363646}) {
    set_grad(p, {0.5});
    sgd.step();
    EXPECT_NEAR(p.item<double>(), e, 1e-12);
  }
}

// The PyTorch formulas in double, for vector parameters and changing gradients.
struct Reference {
  std::vector<double> p{}, b{};
  bool has_buffer = false;
  void step(const std::vector<double>& g, double lr, double wd, double mu, double damp,
            bool nesterov) {
    if (b.empty()) b.assign(p.size(), 0.0);
    for (size_t k = 0; k < p.size(); ++k) {
      double d = g[k] + wd * p[k];
      if (mu != 0.0) {
        b[k] = has_buffer ? mu * b[k] + (1.0 - damp) * d : d;
        d = nesterov ? d + mu * b[k] : b[k];
      }
      p[k] -= lr * d;
    }
    has_buffer = true;
  }
};

std::vector<double> grad_at(int step) {
  return {0.3 - 0.1 * step, -0.2 + 0.05 * step, 0.7, -0.4 * step};
}

void check_against_reference(double mu, double damp, bool nesterov, double wd) {
  const std::vector<double> init{0.5, -1.0, 2.0, 0.25};
  Tensor p = parameter(init, {2, 2});
  Sgd sgd(
      {{"layer.weight", p}},
      {.lr = 0.05, .momentum = mu, .dampening = damp, .weight_decay = wd, .nesterov = nesterov});
  Reference ref{init};
  for (int s = 0; s < 3; ++s) {
    set_grad(p, grad_at(s));
    sgd.step();
    ref.step(grad_at(s), 0.05, wd, mu, damp, nesterov);
    auto got = values(p);
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_NEAR(got[k], ref.p[k], 1e-14) << "step " << s << " element " << k;
    }
  }
  EXPECT_EQ(sgd.steps(), 3);
}

TEST(Sgd, PlainMatchesFormula) {
  check_against_reference(0.0, 0.0, false, 0.0);
}
TEST(Sgd, DecayMatchesFormula) {
  check_against_reference(0.0, 0.0, false, 1e-2);
}
TEST(Sgd, MomentumMatchesFormula) {
  check_against_reference(0.9, 0.0, false, 1e-3);
}
TEST(Sgd, DampeningMatchesFormula) {
  check_against_reference(0.8, 0.25, false, 1e-3);
}
TEST(Sgd, NesterovMatchesFormula) {
  check_against_reference(0.9, 0.0, true, 1e-3);
}

TEST(Sgd, Float32FollowsTheDoubleFormula) {
  Tensor p = Tensor::from_vector<float>({0.5f, -1.0f}, {2});
  p.set_requires_grad(true);
  Sgd sgd({{"w", p}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2});
  Reference ref{{0.5, -1.0}};
  for (int s = 0; s < 3; ++s) {
    p.set_grad(Tensor::from_vector<float>({0.25f, -0.5f}, {2}));
    sgd.step();
    ref.step({0.25, -0.5}, 0.1, 1e-2, 0.9, 0.0, false);
  }
  auto got = p.to_vector<float>();
  EXPECT_NEAR(got[0], ref.p[0], 1e-6);
  EXPECT_NEAR(got[1], ref.p[1], 1e-6);
}

// lr_mult scales the step and decay_mult the decay; later rules override earlier ones.
TEST(Sgd, MultipliersByName) {
  Tensor a = parameter({1.0}, {1, 1});
  Tensor b = parameter({1.0}, {1, 1});
  Tensor c = parameter({1.0}, {1, 1});
  ParamGroupOptions groups{
      .rules = {{"backbone.*", 0.1, 1.0}, {"backbone.head.*", 2.0, 0.0}, {"*.c", 1.0, 3.0}}};
  Sgd sgd({{"backbone.a", a}, {"backbone.head.b", b}, {"neck.c", c}},
          {.lr = 0.5, .weight_decay = 0.1}, groups);
  ASSERT_EQ(sgd.params().size(), 3u);
  EXPECT_EQ(sgd.params()[0].lr_mult, 0.1);
  EXPECT_EQ(sgd.params()[1].lr_mult, 2.0);
  EXPECT_EQ(sgd.params()[1].decay_mult, 0.0);
  EXPECT_EQ(sgd.params()[2].decay_mult, 3.0);
  for (const Tensor* t : {&a, &b, &c}) set_grad(*t, {1.0});
  sgd.step();
  EXPECT_NEAR(a.item<double>(), 1.0 - 0.05 * (1.0 + 0.1), 1e-15);  // lr 0.05, decay 0.1
  EXPECT_NEAR(b.item<double>(), 1.0 - 1.0 * 1.0, 1e-15);           // lr 1.0, no decay
  EXPECT_NEAR(c.item<double>(), 1.0 - 0.5 * (1.0 + 0.3), 1e-15);   // lr 0.5, decay 0.3
}

TEST(Sgd, NoDecayOnNormAndBias) {
  Tensor w = parameter({1.0, 1.0, 1.0, 1.0}, {1, 1, 2, 2});
  Tensor bias = parameter({1.0}, {1});
  Tensor bn = parameter({1.0, 1.0}, {2});
  // The rule sets decay_mult 5 on everything, but 1-d parameters still get none.
  ParamGroupOptions groups{.rules = {{"*", 1.0, 5.0}}, .no_decay_on_norm_and_bias = true};
  Sgd sgd({{"conv.weight", w}, {"conv.bias", bias}, {"bn.weight", bn}},
          {.lr = 0.1, .weight_decay = 0.01}, groups);
  EXPECT_EQ(sgd.params()[0].decay_mult, 5.0);
  EXPECT_EQ(sgd.params()[1].decay_mult, 0.0);
  EXPECT_EQ(sgd.params()[2].decay_mult, 0.0);
  set_grad(w, {0, 0, 0, 0});
  set_grad(bias, {0});
  set_grad(bn, {0, 0});
  sgd.step();
  EXPECT_NEAR(values(w)[0], 1.0 - 0.1 * 0.05, 1e-15);
  EXPECT_EQ(values(bias)[0], 1.0);
  EXPECT_EQ(values(bn)[1], 1.0);
}

TEST(Sgd, FrozenParametersAreLeftOutAndMissingGradientsSkipped) {
  Tensor frozen = Tensor::from_vector<double>({1.0}, {1});
  Tensor a = parameter({1.0}, {1});
  Tensor b = parameter({1.0}, {1});
  Sgd sgd({{"frozen", frozen}, {"a", a}, {"b", b}}, {.lr = 0.1, .momentum = 0.9});
  ASSERT_EQ(sgd.params().size(), 2u);
  EXPECT_EQ(sgd.params()[0].name, "a");
  set_grad(a, {1.0});
  sgd.step();  // b has no gradient: untouched, no buffer, no step counted
  EXPECT_NEAR(a.item<double>(), 0.9, 1e-15);
  EXPECT_EQ(b.item<double>(), 1.0);
  auto state = sgd.state();
  EXPECT_EQ(state.counters.at("step/a"), 1);
  EXPECT_EQ(state.counters.at("step/b"), 0);
  EXPECT_EQ(state.tensors.count("momentum_buffer/b"), 0u);
  // b's first update takes its buffer from its own gradient, as PyTorch's lazily created buffer.
  set_grad(b, {1.0});
  a.zero_grad();
  sgd.step();
  EXPECT_NEAR(b.item<double>(), 0.9, 1e-15);
  EXPECT_NEAR(a.item<double>(), 0.9, 1e-15);
}

TEST(Sgd, ZeroGradDropsGradients) {
  Tensor a = parameter({1.0}, {1});
  Sgd sgd({{"a", a}}, {.lr = 0.1});
  set_grad(a, {1.0});
  sgd.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Sgd, ArgumentErrors) {
  Tensor a = parameter({1.0}, {1});
  auto message = [&](auto make) -> std::string {
    try {
      make();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message([&] {
              Sgd({{"a", a}}, {.lr = 0.1, .nesterov = true});
            }).find("nesterov"),
            std::string::npos);
  EXPECT_NE(message([&] {
              Sgd({{"a", a}}, {.lr = -1.0});
            }).find("learning rate"),
            std::string::npos);
  EXPECT_NE(message([&] {
              Sgd({{"a", a}, {"a", a}}, {});
            }).find("'a' appears twice"),
            std::string::npos);
  EXPECT_NE(message([&] {
              Sgd({{"a", a}}, {}, {.rules = {{"a", -1.0, 1.0}}});
            }).find("rule 'a'"),
            std::string::npos);
  Sgd sgd({{"a", a}}, {.lr = 0.1});
  a.set_grad(Tensor::from_vector<double>({1.0, 2.0}, {2}));
  EXPECT_NE(message([&] { sgd.step(); }).find("parameter 'a'"), std::string::npos);
}

// A step whose update op rejects the call (f16 parameters have no update kernel) leaves the
// optimiser as it was: no step counted, no half-made momentum buffer.
TEST(Sgd, FailedStepChangesNoState) {
  Tensor h = Tensor::from_vector<float>({1.0f}, {1}).to(DType::f16);
  h.set_requires_grad(true);
  h.set_grad(Tensor::from_vector<float>({1.0f}, {1}).to(DType::f16));
  Sgd sgd({{"h", h}}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_THROW(sgd.step(), Error);
  auto state = sgd.state();
  EXPECT_EQ(state.counters.at("step/h"), 0);
  EXPECT_EQ(state.counters.at("steps"), 0);
  EXPECT_TRUE(state.tensors.empty());
}

}  // namespace
}  // namespace osprey::optim
