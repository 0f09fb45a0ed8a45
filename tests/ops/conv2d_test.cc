// Known values, layouts and error paths of conv2d and its backward ops, run on every CPU kernel.
#include <gtest/gtest.h>

#include <functional>

#include "framework/dispatch/registry.h"
#include "ops/cat/cat.h"
#include "ops/common/case_helpers.h"
#include "ops/conv2d/conv2d.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;

// Every CPU kernel of `op` that accepts the calls in `body`. cpu/onednn (when built) declines f64
// and some shapes in `supports`, so forcing it on them fails selection with not_found: that kernel
// is skipped (tests/ops/conv2d_onednn_test.cc runs it on every f32 case); the others accept every
// float call.
void for_each_cpu_kernel(const char* op, const std::function<void()>& body) {
  testing::for_each_cpu_kernel(op, [&] {
    try {
      body();
    } catch (const Error& e) {
      const auto forced = dispatch::Registry::instance().override_for(op, DeviceType::cpu);
      if (e.kind() != ErrorKind::not_found || forced != "onednn") throw;
    }
  });
}

// x = 1..9 as a 1×1×3×3 image, w = [[1, 2], [3, 4]].
Tensor image() {
  return Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
}
Tensor kernel2x2() {
  return Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want) {
  EXPECT_EQ(t.shape(), shape);
  auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
}

TEST(Conv2d, KnownValues) {
  Tensor bias = Tensor::from_vector<double>({1}, {1});
  for_each_cpu_kernel("conv2d", [&] {
    expect_values(ops::conv2d(image(), kernel2x2()), {1, 1, 2, 2}, {37, 47, 67, 77});
    expect_values(ops::conv2d(image(), kernel2x2(), bias), {1, 1, 2, 2}, {38, 48, 68, 78});
    expect_values(ops::conv2d(image(), kernel2x2(), {}, {2}), {1, 1, 1, 1}, {37});
    // Padding 1, stride 2: windows start at -1 and 1 in each dim.
    expect_values(ops::conv2d(image(), kernel2x2(), {}, {2}, {1}), {1, 1, 2, 2}, {4, 18, 36, 77});
    // Dilation 2: the taps are the four corners.
    expect_values(ops::conv2d(image(), kernel2x2(), {}, {1}, {0}, {2}), {1, 1, 1, 1}, {64});
  });
}

TEST(Conv2d, BackwardKnownValues) {
  Tensor g = Tensor::from_vector<double>({1, 1, 1, 1}, {1, 1, 2, 2});
  for_each_cpu_kernel("conv2d_backward_input", [&] {
    expect_values(ops::conv2d_backward_input(g, kernel2x2(), {1, 1, 3, 3}, {1}, {0}, {1}, 1),
                  {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4});
  });
  for_each_cpu_kernel("conv2d_backward_weight", [&] {
    expect_values(ops::conv2d_backward_weight(g, image(), {1, 1, 2, 2}, {1}, {0}, {1}, 1),
                  {1, 1, 2, 2}, {12, 16, 24, 28});
  });
}

// The hand example through autograd: dx and dw as above, db = number of output pixels.
TEST(Conv2d, AutogradGivesKnownGradients) {
  Tensor x = image().set_requires_grad();
  Tensor w = kernel2x2().set_requires_grad();
  Tensor b = Tensor::from_vector<double>({0.5}, {1}).set_requires_grad();
  ops::conv2d(x, w, b).backward(Tensor::from_vector<double>({1, 1, 1, 1}, {1, 1, 2, 2}));
  expect_values(x.grad(), {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4});
  expect_values(w.grad(), {1, 1, 2, 2}, {12, 16, 24, 28});
  expect_values(b.grad(), {1}, {4});
}

TEST(Conv2d, GroupsEqualSeparateConvs) {
  ops::CaseRandom rng(5);
  Tensor x = rng.uniform({2, 4, 5, 5}, DType::f64);
  Tensor w = rng.uniform({6, 2, 3, 3}, DType::f64);
  Tensor b = rng.uniform({6}, DType::f64);
  auto xs = ops::chunk(x, 2, 1);
  auto ws = ops::chunk(w, 2, 0);
  auto bs = ops::chunk(b, 2, 0);
  for_each_cpu_kernel("conv2d", [&] {
    Tensor whole = ops::conv2d(x, w, b, {1}, {1}, {1}, 2);
    Tensor parts = ops::cat(
        {ops::conv2d(xs[0], ws[0], bs[0], {1}, {1}), ops::conv2d(xs[1], ws[1], bs[1], {1}, {1})},
        1);
    expect_values(whole, parts.shape(), parts.to_vector<double>());
  });
}

TEST(Conv2d, ChannelsLastGivesSameValues) {
  ops::CaseRandom rng(6);
  Tensor x = rng.uniform({2, 3, 5, 4}, DType::f32);
  Tensor w = rng.uniform({4, 3, 3, 3}, DType::f32);
  Tensor nhwc = x.contiguous(MemoryFormat::channels_last);
  for_each_cpu_kernel("conv2d", [&] {
    Tensor want = ops::conv2d(x, w, {}, {1}, {1});
    Tensor got = ops::conv2d(nhwc, w, {}, {1}, {1});
    EXPECT_TRUE(got.is_contiguous(MemoryFormat::channels_last));
    auto a = want.to_vector<float>();
    auto b = got.to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << i;
  });
}

TEST(Conv2d, ShapeErrorsNameOpAndShapes) {
  Tensor x = Tensor::empty({1, 3, 5, 5}, DType::f32);
  std::string m = error_message([&] {
    ops::conv2d(x, Tensor::empty({2, 1, 3, 3}, DType::f32), {}, {1}, {0}, {1}, 2);
  });
  EXPECT_NE(m.find("conv2d"), std::string::npos) << m;
  EXPECT_NE(m.find("not divisible by groups 2"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 3, 5, 5]"), std::string::npos) << m;

  m = error_message([&] { ops::conv2d(x, Tensor::empty({2, 2, 3, 3}, DType::f32)); });
  EXPECT_NE(m.find("conv2d"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 2, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 3, 5, 5]"), std::string::npos) << m;

  m = error_message([&] { ops::conv2d(x, Tensor::empty({2, 3, 7, 7}, DType::f32)); });
  EXPECT_NE(m.find("larger than the padded input"), std::string::npos) << m;

  m = error_message([&] {
    ops::conv2d(x, Tensor::empty({2, 3, 3, 3}, DType::f32), Tensor::empty({3}, DType::f32));
  });
  EXPECT_NE(m.find("bias"), std::string::npos) << m;

  m = error_message([&] {
    ops::conv2d_backward_input(Tensor::empty({1, 2, 2, 2}, DType::f32),
                               Tensor::empty({2, 3, 3, 3}, DType::f32), {1, 3, 5, 5}, {1}, {0}, {1},
                               1);
  });
  EXPECT_NE(m.find("conv2d_backward_input"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 2, 3, 3]"), std::string::npos) << m;
}

}  // namespace
}  // namespace osprey
