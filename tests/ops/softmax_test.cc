// Known values, stability and error paths of softmax, log_softmax and their backward ops, run on
// every CPU kernel of each op.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/common/case_helpers.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/softmax/softmax.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;

TEST(Softmax, SlicesSumToOne) {
  ops::CaseRandom rng(3);
  Tensor x = rng.uniform({5, 7, 3}, DType::f32, -4, 4);
  auto check = [&](int64_t dim) {
    Tensor y = ops::softmax(x, dim);
    EXPECT_EQ(y.shape(), x.shape());
    for (float s : ops::sum(y, {dim}).to_vector<float>()) EXPECT_NEAR(s, 1.0f, 1e-5f);
    for (float v : y.to_vector<float>()) EXPECT_GT(v, 0.0f);
  };
  check(0);
  check(1);
  for_each_cpu_kernel("softmax", [&] { check(2); });
}

TEST(Softmax, KnownValues) {
  Tensor x = Tensor::from_vector<double>({0, std::log(2.0), 0, 0}, {2, 2});
  for_each_cpu_kernel("softmax", [&] {
    auto y = ops::softmax(x, 1).to_vector<double>();
    EXPECT_NEAR(y[0], 1.0 / 3, 1e-12);
    EXPECT_NEAR(y[1], 2.0 / 3, 1e-12);
    EXPECT_NEAR(y[2], 0.5, 1e-12);
  });
  for_each_cpu_kernel("log_softmax", [&] {
    auto y = ops::log_softmax(x, -1).to_vector<double>();
    EXPECT_NEAR(y[0], std::log(1.0 / 3), 1e-12);
    EXPECT_NEAR(y[1], std::log(2.0 / 3), 1e-12);
    EXPECT_NEAR(y[3], std::log(0.5), 1e-12);
  });
}

TEST(Softmax, LargeValuesStayFinite) {
  float inf = std::numeric_limits<float>::infinity();
  Tensor x = Tensor::from_vector<float>({1000, 0, 1000, 1000, -inf, 5}, {3, 2});
  for_each_cpu_kernel("log_softmax", [&] {
    auto y = ops::log_softmax(x, 1).to_vector<float>();
    EXPECT_FLOAT_EQ(y[0], 0.0f);
    EXPECT_FLOAT_EQ(y[1], -1000.0f);
    EXPECT_NEAR(y[2], -std::log(2.0f), 1e-6f);
    EXPECT_EQ(y[4], -inf);
    EXPECT_FLOAT_EQ(y[5], 0.0f);
  });
  for_each_cpu_kernel("softmax", [&] {
    auto y = ops::softmax(x, 1).to_vector<float>();
    EXPECT_EQ(y, (std::vector<float>{1, 0, 0.5f, 0.5f, 0, 1}));
  });
}

TEST(Softmax, BackwardOpsMatchTheirFormulas) {
  Tensor g = Tensor::from_vector<double>({1, 2, 3}, {3});
  Tensor y = Tensor::from_vector<double>({0.2, 0.3, 0.5}, {3});
  const double s = 0.2 + 0.6 + 1.5;  // Σ g y
  for_each_cpu_kernel("softmax_backward", [&] {
    auto dx = ops::softmax_backward(g, y, 0).to_vector<double>();
    EXPECT_NEAR(dx[0], 0.2 * (1 - s), 1e-12);
    EXPECT_NEAR(dx[2], 0.5 * (3 - s), 1e-12);
  });
  Tensor log_y = Tensor::from_vector<double>({std::log(0.2), std::log(0.3), std::log(0.5)}, {3});
  for_each_cpu_kernel("log_softmax_backward", [&] {
    auto dx = ops::log_softmax_backward(g, log_y, 0).to_vector<double>();
    EXPECT_NEAR(dx[0], 1 - 0.2 * 6, 1e-12);
    EXPECT_NEAR(dx[1], 2 - 0.3 * 6, 1e-12);
  });
}

TEST(Softmax, GradientOfLogSoftmaxRow) {
  // d/dx Σ_i w_i log_softmax(x)_i = w - softmax(x) Σ w.
  Tensor x = Tensor::from_vector<double>({0.5, -1, 2}, {1, 3}).set_requires_grad();
  Tensor w = Tensor::from_vector<double>({1, 0, 2}, {1, 3});
  ops::sum(ops::log_softmax(x, 1) * w).backward();
  auto p = ops::softmax(x.detach(), 1).to_vector<double>();
  auto g = x.grad().to_vector<double>();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(g[i], w.at<double>({0, i}) - 3 * p[i], 1e-12);
}

TEST(Softmax, Errors) {
  Tensor x = Tensor::from_vector<float>({1, 2}, {1, 2});
  std::string msg = error_message([&] { ops::softmax(x, 2); });
  EXPECT_NE(msg.find("softmax"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  msg = error_message([] { ops::log_softmax(Tensor::from_vector<int32_t>({1, 2}, {2}), 0); });
  EXPECT_NE(msg.find("log_softmax"), std::string::npos) << msg;
  msg = error_message([&] { ops::softmax_backward(x, Tensor::empty({2, 1}), 1); });
  EXPECT_NE(msg.find("softmax_backward"), std::string::npos) << msg;
}

TEST(Softmax, HalfPrecisionReference) {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3}, {2, 2});
  for (DType dtype : {DType::f16, DType::bf16}) {
    auto y = ops::softmax(x.to(dtype), 1).to_vector<float>();
    auto expected = ops::softmax(x, 1).to_vector<float>();
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expected[i], 1e-2f);
  }
}

TEST(Softmax, ScalarAndEmpty) {
  EXPECT_EQ(ops::softmax(Tensor::scalar<float>(3.0f), 0).item<float>(), 1.0f);
  EXPECT_EQ(ops::log_softmax(Tensor::scalar<float>(3.0f), -1).item<float>(), 0.0f);
  EXPECT_EQ(ops::softmax(Tensor::empty({0, 4}), 1).shape(), (Shape{0, 4}));
}

}  // namespace
}  // namespace osprey
