// Known values and error paths of sum, mean, var, max, min, argmax and argmin, run on every CPU
// kernel of each op.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;

void for_each_kernel(const char* op, const std::function<void()>& body) {
  testing::for_each_cpu_kernel(op, body);
}

Tensor matrix() {
  return Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
}

TEST(Reduce, SumOverDims) {
  for_each_kernel("sum", [] {
    EXPECT_EQ(ops::sum(matrix()).item<float>(), 21.0f);
    EXPECT_EQ(ops::sum(matrix()).shape(), Shape{});
    Tensor rows = ops::sum(matrix(), {1}, true);
    EXPECT_EQ(rows.shape(), (Shape{2, 1}));
    EXPECT_EQ(rows.to_vector<float>(), (std::vector<float>{6, 15}));
    EXPECT_EQ(ops::sum(matrix(), {0}).to_vector<float>(), (std::vector<float>{5, 7, 9}));
    EXPECT_EQ(ops::sum(matrix(), {-1, 0}).item<float>(), 21.0f);
  });
  Tensor cube = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  for_each_kernel("sum", [&] {
    EXPECT_EQ(ops::sum(cube, {0, 2}).to_vector<double>(), (std::vector<double>{14, 22}));
    EXPECT_EQ(ops::sum(cube, {0, 2}, true).shape(), (Shape{1, 2, 1}));
    EXPECT_EQ(ops::sum(cube, {1}).to_vector<double>(), (std::vector<double>{4, 6, 12, 14}));
  });
}

TEST(Reduce, SumOfIntegersIsInt64) {
  Tensor x = Tensor::from_vector<int32_t>({1, 2, 3, 4}, {2, 2});
  Tensor s = ops::sum(x, {1});
  EXPECT_EQ(s.dtype(), DType::i64);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{3, 7}));
}

TEST(Reduce, SumAccumulatesInDouble) {
  // A million 0.1f: a float accumulator drifts far from 1e5; double stays within f32 rounding.
  Tensor x = Tensor::empty({1000, 1000}, DType::f32);
  x.fill_(0.1);
  for_each_kernel("sum", [&] {
    EXPECT_NEAR(ops::sum(x).item<float>(), 1e5f, 0.01f);
    EXPECT_NEAR(ops::sum(x, {1}).at<float>({7}), 100.0f, 1e-4f);
    EXPECT_NEAR(ops::sum(x, {0}).at<float>({7}), 100.0f, 1e-4f);
  });
}

TEST(Reduce, EmptyReductions) {
  Tensor empty = Tensor::empty({0, 3}, DType::f32);
  for_each_kernel("sum", [&] {
    EXPECT_EQ(ops::sum(empty).item<float>(), 0.0f);
    EXPECT_EQ(ops::sum(empty, {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
    EXPECT_EQ(ops::sum(empty, {1}).shape(), Shape{0});
  });
  for_each_kernel("mean", [&] { EXPECT_TRUE(std::isnan(ops::mean(empty).item<float>())); });
}

TEST(Reduce, Mean) {
  for_each_kernel("mean", [] {
    EXPECT_EQ(ops::mean(matrix(), {1}).to_vector<float>(), (std::vector<float>{2, 5}));
    EXPECT_EQ(ops::mean(matrix()).item<float>(), 3.5f);
    EXPECT_EQ(ops::mean(matrix(), {0}, true).shape(), (Shape{1, 3}));
  });
  std::string msg = error_message([] { ops::mean(Tensor::from_vector<int32_t>({1, 2}, {2})); });
  EXPECT_NE(msg.find("mean"), std::string::npos) << msg;
}

TEST(Reduce, VarCorrection) {
  for_each_kernel("var", [] {
    Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {4});
    EXPECT_NEAR(ops::var(x).item<double>(), 5.0 / 3.0, 1e-12);  // unbiased by default
    EXPECT_NEAR(ops::var(x, {}, 0).item<double>(), 1.25, 1e-12);
    EXPECT_NEAR(ops::var(x, {0}, 2).item<double>(), 2.5, 1e-12);
    Tensor m = Tensor::from_vector<double>({1, 3, 2, 6}, {2, 2});
    Tensor v = ops::var(m, {1}, 1, true);
    EXPECT_EQ(v.shape(), (Shape{2, 1}));
    EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{2, 8}));
    // A single element with correction 1 divides by 0.
    EXPECT_TRUE(std::isnan(ops::var(Tensor::from_vector<double>({3}, {1})).item<double>()));
  });
}

TEST(Reduce, MaxMinTiesTakeTheFirstIndex) {
  Tensor x = Tensor::from_vector<float>({1, 3, 3, 5, 5, 0}, {2, 3});
  for (const char* op : {"max", "min", "argmax", "argmin"}) {
    for_each_kernel(op, [&] {
      auto [values, indices] = ops::max(x, 1);
      EXPECT_EQ(values.to_vector<float>(), (std::vector<float>{3, 5}));
      EXPECT_EQ(indices.dtype(), DType::i64);
      EXPECT_EQ(indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
      auto [lo, lo_idx] = ops::min(x, -1, true);
      EXPECT_EQ(lo.shape(), (Shape{2, 1}));
      EXPECT_EQ(lo.to_vector<float>(), (std::vector<float>{1, 0}));
      EXPECT_EQ(lo_idx.to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
      // Along dim 0 (a strided slice per output element).
      EXPECT_EQ(ops::argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 0}));
      EXPECT_EQ(ops::argmin(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1}));
      EXPECT_EQ(ops::argmax(x, 0, true).shape(), (Shape{1, 3}));
    });
  }
}

TEST(Reduce, MaxOfIntegers) {
  Tensor x = Tensor::from_vector<int64_t>({4, -2, 9, 9}, {2, 2});
  auto [values, indices] = ops::max(x, 1);
  EXPECT_EQ(values.to_vector<int64_t>(), (std::vector<int64_t>{4, 9}));
  EXPECT_EQ(indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
}

TEST(Reduce, NanWinsMaxAndMin) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({1, nan, 3, nan}, {4});
  for (const char* op : {"max", "min"}) {
    for_each_kernel(op, [&] {
      auto [hi, hi_idx] = ops::max(x, 0);
      EXPECT_TRUE(std::isnan(hi.item<float>()));
      EXPECT_EQ(hi_idx.item<int64_t>(), 1);
      auto [lo, lo_idx] = ops::min(x, 0);
      EXPECT_TRUE(std::isnan(lo.item<float>()));
      EXPECT_EQ(lo_idx.item<int64_t>(), 1);
    });
  }
}

TEST(Reduce, MaxGradientGoesToTheFirstMaximum) {
  Tensor x = Tensor::from_vector<double>({1, 3, 3, 2}, {2, 2}).set_requires_grad();
  Tensor y = Tensor::from_vector<double>({1, 3, 3, 2}, {2, 2}).set_requires_grad();
  ops::sum(ops::max(x, 1).first).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 1, 0}));
  ops::sum(ops::max(y, 0).first).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0, 1, 1, 0}));
  Tensor ties = Tensor::from_vector<double>({2, 2, 2}, {3}).set_requires_grad();
  ops::max(ties, 0).first.backward();
  EXPECT_EQ(ties.grad().to_vector<double>(), (std::vector<double>{1, 0, 0}));
}

TEST(Reduce, SumAndMeanGradients) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad();
  ops::sum(ops::mean(x, {1})).backward();
  for (double g : x.grad().to_vector<double>()) EXPECT_DOUBLE_EQ(g, 1.0 / 3.0);
}

TEST(Reduce, ErrorsNameTheOp) {
  std::string msg = error_message([] { ops::sum(matrix(), {2}); });
  EXPECT_NE(msg.find("sum"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  msg = error_message([] { ops::sum(matrix(), {1, -1}); });
  EXPECT_NE(msg.find("more than once"), std::string::npos) << msg;
  msg = error_message([] { ops::max(matrix(), -3); });
  EXPECT_NE(msg.find("max"), std::string::npos) << msg;
  msg = error_message([] { ops::argmin(Tensor::empty({2, 0}, DType::f32), 1); });
  EXPECT_NE(msg.find("argmin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("size 0"), std::string::npos) << msg;
  msg = error_message([] { ops::var(matrix(), {5}); });
  EXPECT_NE(msg.find("var"), std::string::npos) << msg;
}

TEST(Reduce, HalfPrecisionInputs) {
  for (DType dtype : {DType::f16, DType::bf16}) {
    Tensor x = matrix().to(dtype);
    Tensor s = ops::sum(x, {1});
    EXPECT_EQ(s.dtype(), dtype);
    EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{6, 15}));
    EXPECT_EQ(ops::mean(x).to_vector<float>(), (std::vector<float>{3.5f}));
    EXPECT_EQ(ops::max(x, 0).second.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1}));
    EXPECT_NEAR(ops::var(x, {1}).to_vector<float>()[0], 1.0f, 1e-2f);
  }
}

TEST(Reduce, ScalarInputs) {
  Tensor s = Tensor::scalar<float>(2.5f);
  EXPECT_EQ(ops::sum(s).item<float>(), 2.5f);
  EXPECT_EQ(ops::sum(s, {0}).shape(), Shape{});
  auto [v, i] = ops::max(s, 0);
  EXPECT_EQ(v.item<float>(), 2.5f);
  EXPECT_EQ(i.item<int64_t>(), 0);
}

}  // namespace
}  // namespace osprey
