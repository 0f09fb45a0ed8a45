// Dropout: the kept fraction and scaling, agreement with bernoulli's stream, determinism for a
// (seed, offset), eval/p=0/p=1 edge cases, gradients and p validation.
#include <gtest/gtest.h>

#include "framework/random/generator.h"
#include "ops/dropout/dropout.h"
#include "ops/elementwise/elementwise.h"
#include "ops/factory/factory.h"
#include "ops/random/random.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;
using D = std::vector<double>;

// A bool mask as 0/1 doubles.
D mask_values(const Tensor& mask) {
  return mask.to(DType::f64).to_vector<double>();
}

Tensor bool_tensor(const D& values, const Shape& shape) {
  return Tensor::from_vector<double>(values, shape).to(DType::boolean);
}

TEST(Dropout, KeepsAboutOneMinusPAndScales) {
  const int64_t n = 100000;
  Tensor x = ops::full({n}, 2.0, DType::f64);
  for_each_cpu_kernel("dropout", [&] {
    random::Generator gen(123);
    auto out = ops::dropout_with_mask(x, 0.3, true, gen);
    std::vector<double> y = out[0].to_vector<double>();
    D mask = mask_values(out[1]);
    EXPECT_EQ(out[1].dtype(), DType::boolean);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (mask[i]) {
        ++kept;
        EXPECT_NEAR(y[i], 2.0 / 0.7, 1e-12);
      } else {
        EXPECT_EQ(y[i], 0.0);
      }
    }
    // 1 - p = 0.7; the standard deviation of the fraction is sqrt(0.21 / n) ~ 0.0015.
    EXPECT_NEAR(static_cast<double>(kept) / n, 0.7, 0.01);
  });
}

TEST(Dropout, MaskIsBernoulliStreamAndDeterministic) {
  Tensor x = ops::ones({1001}, DType::f32);
  random::Generator a(7), b(7), c(7);
  auto first = ops::dropout_with_mask(x, 0.4, true, a);
  auto again = ops::dropout_with_mask(x, 0.4, true, b);
  EXPECT_EQ(first[0].to_vector<float>(), again[0].to_vector<float>());
  EXPECT_EQ(mask_values(first[1]), mask_values(again[1]));
  // Same element -> counter rule as bernoulli: the mask is bernoulli(1 - p) at the same position.
  std::vector<float> expected =
      ops::bernoulli(ops::full({1001}, 0.6, DType::f32), c).to_vector<float>();
  D mask = mask_values(first[1]);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(mask[i], expected[i]) << i;
  EXPECT_EQ(a.offset(), c.offset());
  // The generator advanced, so the next call draws a different mask.
  EXPECT_NE(mask_values(ops::dropout_with_mask(x, 0.4, true, a)[1]), mask);
}

TEST(Dropout, EvalAndPZeroAreIdentityPOneIsZero) {
  Tensor x = Tensor::from_vector<double>({1, -2, 3, 4.5}, {2, 2});
  for_each_cpu_kernel("dropout", [&] {
    random::Generator gen(1);
    EXPECT_EQ(ops::dropout(x, 0.5, false, gen).to_vector<double>(), (D{1, -2, 3, 4.5}));
    EXPECT_EQ(ops::dropout(x, 0.0, true, gen).to_vector<double>(), (D{1, -2, 3, 4.5}));
    EXPECT_EQ(gen.offset(), 0u);  // no random numbers needed
    auto zero = ops::dropout_with_mask(x, 1.0, true, gen);
    EXPECT_EQ(zero[0].to_vector<double>(), (D{0, 0, 0, 0}));
    EXPECT_EQ(mask_values(zero[1]), (D{0, 0, 0, 0}));
  });
}

TEST(Dropout, GradientIsMaskOverKeepProbability) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {8});
  x.set_requires_grad();
  random::Generator gen(99);
  auto out = ops::dropout_with_mask(x, 0.5, true, gen);
  ops::sum(out[0]).backward();
  D mask = mask_values(out[1]);
  std::vector<double> grad = x.grad().to_vector<double>();
  for (size_t i = 0; i < mask.size(); ++i) EXPECT_EQ(grad[i], mask[i] ? 2.0 : 0.0) << i;
}

TEST(Dropout, BackwardKnownValues) {
  Tensor g = Tensor::from_vector<double>({1, 2, 3, 4}, {4});
  Tensor mask = bool_tensor({1, 0, 1, 0}, {4});
  for_each_cpu_kernel("dropout_backward", [&] {
    EXPECT_EQ(ops::dropout_backward(g, mask, 0.75).to_vector<double>(), (D{4, 0, 12, 0}));
    EXPECT_EQ(ops::dropout_backward(g, mask, 1.0).to_vector<double>(), (D{0, 0, 0, 0}));
  });
}

TEST(Dropout, Errors) {
  Tensor x = ops::ones({3}, DType::f32);
  std::string message = error_message([&] { ops::dropout(x, 1.5); });
  EXPECT_NE(message.find("dropout: p must be in [0, 1], got 1.5"), std::string::npos) << message;
  message = error_message([&] { ops::dropout(x, -0.1); });
  EXPECT_NE(message.find("p must be in [0, 1]"), std::string::npos) << message;
  message = error_message([&] {
    dispatch::call("dropout", {x}, {{"p", 2.0}, {"seed", int64_t{1}}, {"offset", int64_t{0}}});
  });
  EXPECT_NE(message.find("dropout: p must be in [0, 1], got 2"), std::string::npos) << message;
  message = error_message([&] { ops::dropout_backward(x, bool_tensor({1, 0}, {2}), 0.5); });
  EXPECT_NE(message.find("dropout_backward: grad_output [3] and mask [2]"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace osprey
