// clip_grad_norm (global L2 norm, PyTorch's scaling) and the first non-finite gradient.
#include "framework/optim/grad_clip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/framework/optim/optim_test_util.h"

namespace osprey::optim {
namespace {

using testing::parameter;
using testing::set_grad;
using testing::values;

TEST(ClipGradNorm, GlobalNormAndScaling) {
  Tensor a = parameter({0, 0}, {2});
  Tensor b = parameter({0}, {1, 1});
  Tensor no_grad = parameter({0}, {1});
  set_grad(a, {3.0, 0.0});
  set_grad(b, {4.0});
  NamedParameters params{{"a", a}, {"b", b}, {"c", no_grad}};
  // Total norm sqrt(9 + 16) = 5; max 1 scales by 1 / (5 + 1e-6).
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 1.0), 5.0);
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(values(a.grad())[0], 3.0 * coef);
  EXPECT_DOUBLE_EQ(values(b.grad())[0], 4.0 * coef);
  EXPECT_FALSE(no_grad.grad().defined());
  // Below the limit nothing changes.
  set_grad(a, {0.3, 0.4});
  set_grad(b, {0.0});
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 1.0), 0.5);
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0.3, 0.4}));
}

TEST(ClipGradNorm, Float32GradientsAccumulateInDouble) {
  Tensor a = Tensor::from_vector<float>({0.0f, 0.0f, 0.0f}, {3});
  a.set_requires_grad(true);
  a.set_grad(Tensor::from_vector<float>({1e-3f, 2e-3f, 2e-3f}, {3}));
  const double expected =
      std::sqrt(double(1e-3f) * double(1e-3f) + 2 * double(2e-3f) * double(2e-3f));
  EXPECT_DOUBLE_EQ(clip_grad_norm({{"a", a}}, 10.0), expected);
}

TEST(ClipGradNorm, NonFiniteNormLeavesGradients) {
  Tensor a = parameter({0, 0}, {2});
  set_grad(a, {std::numeric_limits<double>::infinity(), 1.0});
  EXPECT_TRUE(std::isinf(clip_grad_norm({{"a", a}}, 1.0)));
  EXPECT_EQ(values(a.grad())[1], 1.0);
  EXPECT_THROW(clip_grad_norm({{"a", a}}, 0.0), Error);
}

TEST(FirstNonfiniteGrad, NamesTheFirst) {
  Tensor a = parameter({0, 0}, {2});
  Tensor b = parameter({0}, {1});
  Tensor c = parameter({0}, {1});
  NamedParameters params{{"a", a}, {"b", b}, {"c", c}};
  EXPECT_FALSE(first_nonfinite_grad(params).has_value());
  set_grad(a, {1.0, 2.0});
  set_grad(b, {std::nan("")});
  set_grad(c, {-std::numeric_limits<double>::infinity()});
  EXPECT_EQ(first_nonfinite_grad(params).value_or("none"), "b");
  set_grad(b, {0.0});
  EXPECT_EQ(first_nonfinite_grad(params).value_or("none"), "c");
}

}  // namespace
}  // namespace osprey::optim
