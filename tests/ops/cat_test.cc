// Value and error tests of cat, stack, split and chunk.
#include <gtest/gtest.h>

#include "framework/dispatch/registry.h"
#include "ops/cat/cat.h"
#include "ops/elementwise/elementwise.h"

namespace osprey {
namespace {

Tensor f32(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, shape);
}

TEST(Cat, KnownValues) {
  Tensor a = f32({1, 2, 3, 4}, {2, 2});
  Tensor b = f32({5, 6}, {1, 2});
  Tensor c = ops::cat({a, b}, 0);
  EXPECT_EQ(dispatch::last_kernel_key(), "cat/cpu/reference");
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor d = ops::cat({a, b.transpose(0, 1)}, -1);
  EXPECT_EQ(d.shape(), (Shape{2, 3}));
  EXPECT_EQ(d.to_vector<float>(), (std::vector<float>{1, 2, 5, 3, 4, 6}));
}

TEST(Cat, AnyDtypeAndSkippedEmpty) {
  Tensor a = Tensor::from_vector<int64_t>({1, 2}, {1, 2});
  Tensor empty = Tensor::from_vector<int64_t>({}, {0});
  Tensor c = ops::cat({empty, a, a}, 0);
  EXPECT_EQ(c.shape(), (Shape{2, 2}));
  EXPECT_EQ(c.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 1, 2}));
}

TEST(Cat, Errors) {
  try {
    ops::cat({Tensor::empty({2, 3}), Tensor::empty({2, 4})}, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::shape);
    std::string what = e.what();
    EXPECT_NE(what.find("cat"), std::string::npos) << what;
    EXPECT_NE(what.find("tensor 1"), std::string::npos) << what;
    EXPECT_NE(what.find("[2, 4]"), std::string::npos) << what;
  }
  EXPECT_THROW(ops::cat({Tensor::empty({2, 3}), Tensor::empty({2, 3, 1})}, 0), Error);
  EXPECT_THROW(ops::cat({Tensor::empty({2, 3})}, 2), Error);
  EXPECT_THROW(ops::cat({Tensor::empty({2}), Tensor::empty({2}, DType::f64)}, 0), Error);
  EXPECT_THROW(ops::cat({}, 0), Error);
}

TEST(Cat, GradientsAreSlices) {
  Tensor a = f32({1, 2}, {2}).set_requires_grad();
  Tensor b = f32({3, 4, 5}, {3}).set_requires_grad();
  Tensor y = ops::cat({a, b});
  y.backward(f32({10, 20, 30, 40, 50}, {5}));
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{10, 20}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{30, 40, 50}));
}

TEST(Stack, KnownValuesAndErrors) {
  Tensor a = f32({1, 2}, {2});
  Tensor b = f32({3, 4}, {2});
  Tensor s0 = ops::stack({a, b}, 0);
  EXPECT_EQ(s0.shape(), (Shape{2, 2}));
  EXPECT_EQ(s0.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  Tensor s1 = ops::stack({a, b}, -1);
  EXPECT_EQ(s1.shape(), (Shape{2, 2}));
  EXPECT_EQ(s1.to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
  EXPECT_EQ(ops::stack({a, b, a}, 1).shape(), (Shape{2, 3}));
  try {
    ops::stack({a, f32({1, 2, 3}, {3})});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("stack"), std::string::npos) << what;
    EXPECT_NE(what.find("[3]"), std::string::npos) << what;
  }
  EXPECT_THROW(ops::stack({a, b}, 2), Error);
}

TEST(Split, BySizeAndBySizes) {
  Tensor t = f32({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {5, 2});
  auto pieces = ops::split(t, 2, 0);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(pieces[2].shape(), (Shape{1, 2}));
  EXPECT_EQ(pieces[2].to_vector<float>(), (std::vector<float>{8, 9}));
  EXPECT_EQ(pieces[1].storage().get(), t.storage().get());  // views

  auto cols = ops::split(t, std::vector<int64_t>{1, 1}, -1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[1].to_vector<float>(), (std::vector<float>{1, 3, 5, 7, 9}));
  EXPECT_THROW(ops::split(t, std::vector<int64_t>{1, 2}, 1), Error);
  EXPECT_THROW(ops::split(t, 0, 0), Error);

  auto chunks = ops::chunk(t, 3, 0);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(chunks[2].shape(), (Shape{1, 2}));
}

TEST(Unbind, InvertsStack) {
  Tensor t = f32({0, 1, 2, 3, 4, 5}, {2, 3});
  auto cols = ops::unbind(t, 1);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[2].shape(), (Shape{2}));
  EXPECT_EQ(cols[2].to_vector<float>(), (std::vector<float>{2, 5}));
  EXPECT_EQ(ops::stack(cols, 1).to_vector<float>(), t.to_vector<float>());
  EXPECT_THROW(ops::unbind(Tensor::scalar<float>(1.0f)), Error);
}

TEST(Split, GradientFlowsThroughPieces) {
  Tensor t = f32({1, 2, 3, 4}, {4}).set_requires_grad();
  auto pieces = ops::split(t, std::vector<int64_t>{1, 3});
  Tensor y = ops::cat({ops::mul(pieces[1], f32({2, 2, 2}, {3})), pieces[0]});
  y.backward(f32({1, 1, 1, 1}, {4}));
  EXPECT_EQ(t.grad().to_vector<float>(), (std::vector<float>{1, 2, 2, 2}));
}

}  // namespace
}  // namespace osprey
