// Known values of relu, sigmoid, tanh and softplus (PyTorch semantics), their gradients at the
// conventions' edges, and that each derivative runs through its backward op.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/activation/activation.h"

namespace osprey {
namespace {

Tensor f64(std::vector<double> values) {
  Shape shape{static_cast<int64_t>(values.size())};
  return Tensor::from_vector<double>(values, shape);
}

void expect_near(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  auto v = t.to_vector<double>();
  ASSERT_EQ(v.size(), expected.size()) << t.describe();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], tol) << "index " << i;
}

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// The names of the ops called while `fn` runs.
std::set<std::string> ops_called(const std::function<void()>& fn) {
  std::set<std::string> names;
  int id = dispatch::add_forward_hook(
      [&](const dispatch::OpDef& op, const auto&, const auto&) { names.insert(op.schema.name); });
  fn();
  dispatch::remove_forward_hook(id);
  return names;
}

TEST(Relu, ValuesAndGradient) {
  Tensor x = f64({-1.0, 0.0, 2.0}).set_requires_grad();
  Tensor y = ops::relu(x);
  expect_near(y, {0.0, 0.0, 2.0});
  auto called = ops_called([&] { y.backward(f64({5.0, 5.0, 5.0})); });
  expect_near(x.grad(), {0.0, 0.0, 5.0});  // 0 at input == 0
  EXPECT_TRUE(called.count("threshold_backward"));
  Tensor ints = Tensor::from_vector<int32_t>({-3, 4}, {2});
  EXPECT_EQ(ops::relu(ints).to_vector<int32_t>(), (std::vector<int32_t>{0, 4}));
}

TEST(Sigmoid, ValuesStabilityAndGradient) {
  expect_near(ops::sigmoid(f64({0.0})), {0.5});
  expect_near(ops::sigmoid(f64({2.0, -2.0})), {sigmoid(2.0), sigmoid(-2.0)});
  // No overflow to NaN at large |x| in float or double.
  for (DType dtype : {DType::f32, DType::f64}) {
    auto v = ops::sigmoid(f64({-1000.0, 1000.0, -100.0}).to(dtype)).to_vector<double>();
    EXPECT_EQ(v[0], 0.0);
    EXPECT_EQ(v[1], 1.0);
    EXPECT_GT(v[2], 0.0);
    EXPECT_LT(v[2], 1e-40);
  }
  Tensor x = f64({0.0, 1.0}).set_requires_grad();
  Tensor y = ops::sigmoid(x);
  auto called = ops_called([&] { y.backward(f64({1.0, 2.0})); });
  expect_near(x.grad(), {0.25, 2.0 * sigmoid(1.0) * (1.0 - sigmoid(1.0))});
  EXPECT_TRUE(called.count("sigmoid_backward"));
}

TEST(Tanh, ValuesAndGradient) {
  expect_near(ops::tanh(f64({0.0, 1.0, -30.0})), {0.0, std::tanh(1.0), -1.0});
  Tensor x = f64({0.0, 0.5}).set_requires_grad();
  Tensor y = ops::tanh(x);
  auto called = ops_called([&] { y.backward(f64({1.0, 1.0})); });
  expect_near(x.grad(), {1.0, 1.0 - std::tanh(0.5) * std::tanh(0.5)});
  EXPECT_TRUE(called.count("tanh_backward"));
}

TEST(Softplus, ValuesAndThreshold) {
  expect_near(ops::softplus(f64({0.0, 1.0, -50.0})),
              {std::log(2.0), std::log1p(std::exp(1.0)), std::exp(-50.0)});
  // Above threshold (beta*x > 20 by default) the input is returned as is.
  Tensor big = f64({20.5, 100.0, 1000.0});
  expect_near(ops::softplus(big), {20.5, 100.0, 1000.0}, 0.0);
  // beta scales the input and divides the result; the threshold applies to beta*x.
  expect_near(ops::softplus(f64({0.6, 0.4}), 2.0, 1.0), {0.6, std::log1p(std::exp(0.8)) / 2.0});
  Tensor x = f64({0.6, 0.4}).set_requires_grad();
  Tensor y = ops::softplus(x, 2.0, 1.0);
  auto called = ops_called([&] { y.backward(f64({3.0, 3.0})); });
  expect_near(x.grad(), {3.0, 3.0 * sigmoid(0.8)});
  EXPECT_TRUE(called.count("softplus_backward"));
}

TEST(Activation, HalfPrecisionComputesInFloat) {
  Tensor x = Tensor::from_vector<float>({-2.0f, 0.0f, 3.0f}, {3});
  for (DType dtype : {DType::f16, DType::bf16}) {
    Tensor h = x.to(dtype);
    EXPECT_EQ(ops::relu(h).dtype(), dtype);
    EXPECT_EQ(ops::relu(h).to_vector<float>(), (std::vector<float>{0.0f, 0.0f, 3.0f}));
    EXPECT_EQ(ops::sigmoid(h).to_vector<float>()[1], 0.5f);
    EXPECT_EQ(ops::tanh(h).to_vector<float>()[1], 0.0f);
    EXPECT_NEAR(ops::softplus(h).to_vector<float>()[1], std::log(2.0f), 1e-2);
  }
}

TEST(Activation, DoubleBackwardThroughBackwardOps) {
  // d/dy of sigmoid_backward(g, y) = g * (1 - 2y); checks the backward ops' own derivatives.
  Tensor g = f64({2.0}).set_requires_grad();
  Tensor y = f64({0.25}).set_requires_grad();
  ops::sigmoid_backward(g, y).backward(f64({1.0}));
  expect_near(y.grad(), {2.0 * 0.5});
  expect_near(g.grad(), {0.25 * 0.75});
  Tensor g2 = f64({2.0}).set_requires_grad();
  Tensor t = f64({0.5}).set_requires_grad();
  ops::tanh_backward(g2, t).backward(f64({1.0}));
  expect_near(t.grad(), {-2.0 * 2.0 * 0.5});
  expect_near(g2.grad(), {0.75});
}

TEST(Activation, Errors) {
  Tensor ints = Tensor::from_vector<int32_t>({1}, {1});
  for (const char* op : {"sigmoid", "tanh", "softplus"}) {
    try {
      dispatch::call1(op, {ints});
      ADD_FAILURE() << op << " accepted an integer input";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + op + "'"), std::string::npos)
          << e.what();
    }
  }
  try {
    ops::sigmoid_backward(f64({1.0, 2.0}), f64({0.5}));
    ADD_FAILURE() << "sigmoid_backward accepted mismatched shapes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sigmoid_backward"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace osprey
