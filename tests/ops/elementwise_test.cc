// Known values, dtype rules, gradients at the conventions' edges and error messages of the
// element-wise family beyond add/sub/mul/div (exp, log, sqrt, abs, sign, pow, clamp, maximum,
// minimum, pow_tensor, where and the comparisons).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "framework/dispatch/registry.h"
#include "ops/elementwise/binary_math.h"
#include "ops/elementwise/compare.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/unary.h"
#include "ops/elementwise/where.h"

namespace osprey {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor f64(std::vector<double> values, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  return Tensor::from_vector<double>(values, shape);
}

void expect_near(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  auto v = t.to_vector<double>();
  ASSERT_EQ(v.size(), expected.size()) << t.describe();
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(v[i])) << "index " << i << ": " << v[i];
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(v[i], expected[i]) << "index " << i;
    } else {
      EXPECT_NEAR(v[i], expected[i], tol) << "index " << i;
    }
  }
}

std::vector<bool> bools(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::boolean);
  auto v = t.to_vector<uint8_t>();
  return std::vector<bool>(v.begin(), v.end());
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Unary, KnownValues) {
  expect_near(ops::exp(f64({0.0, 1.0, -1.0})), {1.0, std::exp(1.0), std::exp(-1.0)});
  expect_near(ops::log(f64({1.0, std::exp(2.0), 0.0})), {0.0, 2.0, -kInf});
  expect_near(ops::sqrt(f64({4.0, 2.0, 0.0, -1.0})), {2.0, std::sqrt(2.0), 0.0, kNan});
  expect_near(ops::abs(f64({-1.5, 0.0, 2.0})), {1.5, 0.0, 2.0});
  expect_near(ops::sign(f64({-3.0, 0.0, 0.5, kNan})), {-1.0, 0.0, 1.0, kNan});
  expect_near(ops::pow(f64({1.0, 2.0, 3.0}), 2.0), {1.0, 4.0, 9.0});
  expect_near(ops::pow(f64({4.0, 9.0}), 0.5), {2.0, 3.0});
  expect_near(ops::pow(f64({-2.0}), 3.0), {-8.0});
}

TEST(Unary, DtypeRules) {
  Tensor ints = Tensor::from_vector<int64_t>({-2, 0, 3}, {3});
  // abs, sign and clamp keep integral dtypes; exp/log/sqrt/pow promote them to f32.
  EXPECT_EQ(ops::abs(ints).dtype(), DType::i64);
  EXPECT_EQ(ops::abs(ints).to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 3}));
  EXPECT_EQ(ops::sign(ints).to_vector<int64_t>(), (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(ops::exp(ints).dtype(), DType::f32);
  EXPECT_EQ(ops::pow(ints, 2.0).to_vector<float>(), (std::vector<float>{4, 0, 9}));
  // The op itself rejects integral inputs, naming itself and the argument.
  std::string message = error_of([&] { dispatch::call1("log", {ints}); });
  EXPECT_NE(message.find("'log'"), std::string::npos) << message;
  EXPECT_NE(message.find("input"), std::string::npos) << message;
  // Half precision computes in float.
  Tensor h = Tensor::from_vector<float>({0.25f, 4.0f}, {2}).to(DType::f16);
  EXPECT_EQ(ops::sqrt(h).dtype(), DType::f16);
  EXPECT_EQ(ops::sqrt(h).to_vector<float>(), (std::vector<float>{0.5f, 2.0f}));
}

TEST(Unary, Gradients) {
  Tensor x = f64({-2.0, 0.5, 3.0}).set_requires_grad();
  ops::abs(x).backward(ops::abs(x).detach().fill_(1.0));
  expect_near(x.grad(), {-1.0, 1.0, 1.0});
  // pow with exponent 0 has gradient 0 everywhere, also at 0 (no 0 * inf).
  Tensor z = f64({0.0, 2.0}).set_requires_grad();
  Tensor y = ops::pow(z, 0.0);
  expect_near(y, {1.0, 1.0});
  y.backward(y.detach().clone().fill_(1.0));
  expect_near(z.grad(), {0.0, 0.0});
  // abs at 0 has gradient 0 (sign(0)).
  Tensor zero = f64({0.0}).set_requires_grad();
  ops::abs(zero).backward(f64({1.0}));
  expect_near(zero.grad(), {0.0});
}

TEST(Clamp, ValuesAndConventions) {
  Tensor x = f64({-2.0, -1.0, 0.0, 1.0, 2.0, kNan});
  expect_near(ops::clamp(x, -1.0, 1.0), {-1.0, -1.0, 0.0, 1.0, 1.0, kNan});
  expect_near(ops::clamp_min(x, 0.5), {0.5, 0.5, 0.5, 1.0, 2.0, kNan});
  expect_near(ops::clamp_max(x, 0.5), {-2.0, -1.0, 0.0, 0.5, 0.5, kNan});
  expect_near(ops::clamp(x), {-2.0, -1.0, 0.0, 1.0, 2.0, kNan});  // no bounds: identity
  expect_near(ops::clamp(x, 1.0, -1.0), {-1.0, -1.0, -1.0, -1.0, -1.0, kNan});  // min > max
  Tensor ints = Tensor::from_vector<int32_t>({-5, 0, 7}, {3});
  EXPECT_EQ(ops::clamp(ints, -1.0, 3.0).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 3}));
  EXPECT_EQ(ops::clamp_min(ints, 0.0).to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 7}));
}

TEST(Clamp, GradientPassesOnTheBoundsInclusive) {
  Tensor x = f64({-2.0, -1.0, 0.0, 1.0, 2.0}).set_requires_grad();
  ops::clamp(x, -1.0, 1.0).backward(f64({1, 2, 3, 4, 5}));
  expect_near(x.grad(), {0.0, 2.0, 3.0, 4.0, 0.0});
}

TEST(MaxMin, ValuesBroadcastAndNan) {
  Tensor a = f64({1.0, 5.0, -2.0, kNan}, {2, 2});
  Tensor b = f64({3.0, 0.0});
  expect_near(ops::maximum(a, b), {3.0, 5.0, 3.0, kNan});
  expect_near(ops::minimum(a, b), {1.0, 0.0, -2.0, kNan});
  // Mixed dtypes promote.
  Tensor i = Tensor::from_vector<int32_t>({2, -7}, {2});
  Tensor m = ops::maximum(i, Tensor::from_vector<float>({0.5f, 0.5f}, {2}));
  EXPECT_EQ(m.dtype(), DType::f32);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{2.0f, 0.5f}));
  EXPECT_EQ(ops::minimum(i, i).to_vector<int32_t>(), (std::vector<int32_t>{2, -7}));
}

TEST(MaxMin, TiesSplitTheGradientHalfAndHalf) {
  for (bool is_max : {true, false}) {
    Tensor a = f64({1.0, 2.0, 3.0}).set_requires_grad();
    Tensor b = f64({1.0, 5.0, 0.0}).set_requires_grad();
    Tensor y = is_max ? ops::maximum(a, b) : ops::minimum(a, b);
    y.backward(f64({4.0, 4.0, 4.0}));
    if (is_max) {
      expect_near(a.grad(), {2.0, 0.0, 4.0});
      expect_near(b.grad(), {2.0, 4.0, 0.0});
    } else {
      expect_near(a.grad(), {2.0, 4.0, 0.0});
      expect_near(b.grad(), {2.0, 0.0, 4.0});
    }
  }
  // A broadcast operand collects its gradient over the broadcast dims.
  Tensor a = f64({1.0, 2.0, 0.0, 7.0}, {2, 2}).set_requires_grad();
  Tensor s = f64({1.0}, {}).set_requires_grad();
  ops::maximum(a, s).backward(f64({1.0, 1.0, 1.0, 1.0}, {2, 2}));
  expect_near(a.grad(), {0.5, 1.0, 0.0, 1.0});
  expect_near(s.grad(), {1.5});
}

TEST(PowTensor, ValuesBroadcastAndZeroBase) {
  Tensor x = f64({2.0, 3.0, 4.0, 0.0}, {2, 2});
  Tensor e = f64({2.0, 0.5});
  expect_near(ops::pow_tensor(x, e), {4.0, std::sqrt(3.0), 16.0, 0.0});
  // d/dexponent at base 0 is taken as 0, not 0 * log(0).
  Tensor base = f64({0.0, 2.0}).set_requires_grad();
  Tensor ex = f64({2.0, 3.0}).set_requires_grad();
  ops::pow_tensor(base, ex).backward(f64({1.0, 1.0}));
  expect_near(ex.grad(), {0.0, 8.0 * std::log(2.0)});
  expect_near(base.grad(), {0.0, 12.0});
  EXPECT_EQ(ops::pow_tensor(Tensor::from_vector<int64_t>({2}, {1}),
                            Tensor::from_vector<int64_t>({3}, {1}))
                .to_vector<float>(),
            (std::vector<float>{8.0f}));
}

TEST(Compare, BroadcastingAndDtypes) {
  Tensor a = f64({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {2, 3});
  Tensor b = f64({2.0, 2.0, 7.0});
  EXPECT_EQ(bools(ops::eq(a, b)), (std::vector<bool>{0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(bools(ops::ne(a, b)), (std::vector<bool>{1, 0, 1, 1, 1, 1}));
  EXPECT_EQ(bools(ops::lt(a, b)), (std::vector<bool>{1, 0, 1, 0, 0, 1}));
  EXPECT_EQ(bools(ops::le(a, b)), (std::vector<bool>{1, 1, 1, 0, 0, 1}));
  EXPECT_EQ(bools(ops::gt(a, b)), (std::vector<bool>{0, 0, 0, 1, 1, 0}));
  EXPECT_EQ(bools(ops::ge(a, b)), (std::vector<bool>{0, 1, 0, 1, 1, 0}));
  EXPECT_EQ(ops::eq(a, b).shape(), (Shape{2, 3}));
  // Integral, mixed and half inputs.
  Tensor i = Tensor::from_vector<int64_t>({1, 2, 3}, {3});
  EXPECT_EQ(bools(ops::gt(i, Tensor::scalar<int64_t>(2))), (std::vector<bool>{0, 0, 1}));
  EXPECT_EQ(bools(ops::eq(i, Tensor::from_vector<float>({1.0f, 2.5f, 3.0f}, {3}))),
            (std::vector<bool>{1, 0, 1}));
  Tensor h = b.to(DType::bf16);
  EXPECT_EQ(bools(ops::le(h, h)), (std::vector<bool>{1, 1, 1}));
  Tensor u = Tensor::from_vector<uint8_t>({0, 200}, {2});
  EXPECT_EQ(bools(ops::lt(u, Tensor::scalar<uint8_t>(100))), (std::vector<bool>{1, 0}));
  // NaN is unequal to everything, itself included.
  Tensor n = f64({kNan});
  EXPECT_EQ(bools(ops::eq(n, n)), (std::vector<bool>{0}));
  EXPECT_EQ(bools(ops::ne(n, n)), (std::vector<bool>{1}));
  // Not differentiable: the result never requires grad.
  Tensor x = f64({1.0}).set_requires_grad();
  EXPECT_FALSE(ops::lt(x, x).requires_grad());
}

TEST(Compare, MismatchedShapesNameTheOp) {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f64({1, 2, 3, 4});
  for (const char* op : {"eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "pow_tensor"}) {
    std::string message = error_of([&] { dispatch::call1(op, {a, b}); });
    EXPECT_NE(message.find(std::string("'") + op + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("[4]"), std::string::npos) << message;
  }
  std::string message = error_of([&] { dispatch::call1("lt", {a, a.to(DType::f32)}); });
  EXPECT_NE(message.find("cast one first"), std::string::npos) << message;
}

TEST(Where, ValuesBroadcastingAndGradient) {
  Tensor c = ops::gt(f64({1.0, -1.0, 2.0}), f64({0.0}, {}));  // [true, false, true]
  Tensor a = f64({10.0, 20.0, 30.0, 40.0, 50.0, 60.0}, {2, 3}).set_requires_grad();
  Tensor b = f64({-1.0}, {}).set_requires_grad();
  Tensor y = ops::where(c, a, b);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_near(y, {10.0, -1.0, 30.0, 40.0, -1.0, 60.0});
  y.backward(f64({1, 2, 3, 4, 5, 6}, {2, 3}));
  expect_near(a.grad(), {1.0, 0.0, 3.0, 4.0, 0.0, 6.0});
  expect_near(b.grad(), {7.0});  // 2 + 5, summed over the broadcast
  expect_near(ops::where(c, f64({1.0, 2.0, 3.0}), 0.0), {1.0, 0.0, 3.0});
  // Integral values work; the result takes the promoted dtype.
  Tensor w = ops::where(c, Tensor::from_vector<int32_t>({1, 2, 3}, {3}), f64({0.5}));
  EXPECT_EQ(w.dtype(), DType::f64);
  expect_near(w, {1.0, 0.5, 3.0});
}

TEST(Where, Errors) {
  Tensor x = f64({1.0, 2.0});
  std::string message = error_of([&] { ops::where(x, x, x); });
  EXPECT_NE(message.find("condition must be bool"), std::string::npos) << message;
  Tensor c = ops::gt(x, f64({0.0}, {}));
  message = error_of([&] { ops::where(c, x, f64({1.0, 2.0, 3.0})); });
  EXPECT_NE(message.find("'where'"), std::string::npos) << message;
  EXPECT_NE(message.find("[3]"), std::string::npos) << message;
}

}  // namespace
}  // namespace osprey
