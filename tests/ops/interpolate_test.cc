// Known values, PyTorch's index rules, layouts, gradients and error paths of interpolate and
// interpolate_backward, run on every CPU kernel of each op.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "framework/autograd/gradcheck.h"
#include "ops/elementwise/elementwise.h"
#include "ops/interpolate/interpolate.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;
using D = std::vector<double>;

Tensor image(const D& values, const Shape& shape) {
  return Tensor::from_vector<double>(values, shape);
}

void expect_near(const std::vector<double>& actual, const D& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-12) << i;
}

// [[1, 2], [3, 4]] is 1 + 2*row + col, and bilinear interpolation keeps such a plane exact, so
// every output is 1 + 2*R[i] + C[j] at its source coordinates R and C.
const D two_by_two = {1, 2, 3, 4};

TEST(Interpolate, BilinearTwoToFour) {
  // Source coordinates 0.5*(d+0.5)-0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (the last row).
  Tensor x = image(two_by_two, {1, 1, 2, 2});
  for_each_cpu_kernel("interpolate", [&] {
    Tensor y = ops::interpolate(x, {4, 4}, {}, "bilinear");
    EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
    expect_near(y.to_vector<double>(), {1.0, 1.25, 1.75, 2.0,  //
                                        1.5, 1.75, 2.25, 2.5,  //
                                        2.5, 2.75, 3.25, 3.5,  //
                                        3.0, 3.25, 3.75, 4.0});
  });
}

TEST(Interpolate, BilinearTwoToFourAlignCorners) {
  // Source coordinates d * (2-1)/(4-1) = 0, 1/3, 2/3, 1.
  Tensor x = image(two_by_two, {1, 1, 2, 2});
  for_each_cpu_kernel("interpolate", [&] {
    Tensor y = ops::interpolate(x, {4}, {}, "bilinear", true);
    expect_near(y.to_vector<double>(), {1.0, 4.0 / 3, 5.0 / 3, 2.0,       //
                                        5.0 / 3, 2.0, 7.0 / 3, 8.0 / 3,   //
                                        7.0 / 3, 8.0 / 3, 3.0, 10.0 / 3,  //
                                        3.0, 10.0 / 3, 11.0 / 3, 4.0});
  });
}

TEST(Interpolate, NearestUpsampleTimesTwo) {
  Tensor x = image(two_by_two, {1, 1, 2, 2});
  for_each_cpu_kernel("interpolate", [&] {
    Tensor y = ops::interpolate(x, {}, {2.0});
    EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
    EXPECT_EQ(y.to_vector<double>(), (D{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  });
}

TEST(Interpolate, NearestDownsampleFourToThree) {
  // src = floor(d * 4/3) = 0, 1, 2: the last row and column are dropped.
  D v;
  for (int i = 0; i < 16; ++i) v.push_back(i);
  Tensor x = image(v, {1, 1, 4, 4});
  for_each_cpu_kernel("interpolate", [&] {
    EXPECT_EQ(ops::interpolate(x, {3}).to_vector<double>(), (D{0, 1, 2, 4, 5, 6, 8, 9, 10}));
    EXPECT_EQ(ops::interpolate(x, {}, {0.75}).to_vector<double>(), (D{0, 1, 2, 4, 5, 6, 8, 9, 10}));
  });
}

TEST(Interpolate, NearestComputesIndicesInFloatAsPyTorch) {
  // Width 11 with scale_factor 3.7 gives 40 columns; for column 37 the float product
  // 37 * float(1/3.7) rounds to 10.0, where double arithmetic gives 9.999999999999998, so 9.
  D v;
  for (int i = 0; i < 11; ++i) v.push_back(i);
  Tensor x = image(v, {1, 1, 1, 11});
  for_each_cpu_kernel("interpolate", [&] {
    D y = ops::interpolate(x, {}, {1.0, 3.7}).to_vector<double>();
    ASSERT_EQ(y.size(), 40u);
    EXPECT_EQ(y[37], 10.0);
  });
}

TEST(Interpolate, ScaleFactorUsesItsInverseAsCoordinateScale) {
  // Width 3 with scale_factor 1.5 gives 4 columns; PyTorch (recompute_scale_factor=None) maps
  // with 1/1.5, not 3/4: sources 0 (clamped), 0.5, 7/6, 11/6. size=4 maps with 3/4 instead.
  Tensor x = image({0, 1, 2}, {1, 1, 1, 3});
  for_each_cpu_kernel("interpolate", [&] {
    expect_near(ops::interpolate(x, {}, {1.0, 1.5}, "bilinear").to_vector<double>(),
                {0.0, 0.5, 7.0 / 6, 11.0 / 6});
    expect_near(ops::interpolate(x, {1, 4}, {}, "bilinear").to_vector<double>(),
                {0.0, 0.625, 1.375, 2.0});
  });
}

TEST(Interpolate, IdentityWhenSizeEqualsInput) {
  D v;
  for (int i = 0; i < 2 * 3 * 3 * 4; ++i) v.push_back((i * 7) % 11 - 5.5);
  Tensor x = image(v, {2, 3, 3, 4});
  for_each_cpu_kernel("interpolate", [&] {
    for (Tensor in : {x, x.contiguous(MemoryFormat::channels_last)}) {
      EXPECT_EQ(ops::interpolate(in, {3, 4}).to_vector<double>(), v);
      EXPECT_EQ(ops::interpolate(in, {3, 4}, {}, "bilinear").to_vector<double>(), v);
      EXPECT_EQ(ops::interpolate(in, {3, 4}, {}, "bilinear", true).to_vector<double>(), v);
    }
  });
}

TEST(Interpolate, ChannelsLastAndStridedMatchContiguous) {
  D v;
  for (int i = 0; i < 2 * 3 * 4 * 5; ++i) v.push_back((i * 37) % 120);
  Tensor x = image(v, {2, 3, 4, 5});
  D expected = ops::interpolate(x, {3, 7}, {}, "bilinear").to_vector<double>();
  for (Tensor other : {x.contiguous(MemoryFormat::channels_last),
                       x.transpose(2, 3).contiguous().transpose(2, 3)}) {
    EXPECT_EQ(ops::interpolate(other, {3, 7}, {}, "bilinear").to_vector<double>(), expected);
  }
}

TEST(Interpolate, NearestCopiesInfinitiesWithoutNaN) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = image({inf, 1, 2, -inf}, {1, 1, 2, 2});
  for_each_cpu_kernel("interpolate", [&] {
    EXPECT_EQ(ops::interpolate(x, {}, {2.0}).to_vector<double>(),
              (D{inf, inf, 1, 1, inf, inf, 1, 1, 2, 2, -inf, -inf, 2, 2, -inf, -inf}));
  });
  for_each_cpu_kernel("interpolate_backward", [&] {
    EXPECT_EQ(ops::interpolate_backward(x, {1, 1, 2, 2}, {2}).to_vector<double>(),
              (D{inf, 1, 2, -inf}));
  });
}

TEST(Interpolate, BackwardScattersWeights) {
  for_each_cpu_kernel("interpolate_backward", [&] {
    Tensor ones16 = image(D(16, 1.0), {1, 1, 4, 4});
    // Per axis the weights into each source index sum to 2, so every input gets 2 * 2.
    expect_near(
        ops::interpolate_backward(ones16, {1, 1, 2, 2}, {4}, {}, "bilinear").to_vector<double>(),
        {4, 4, 4, 4});
    EXPECT_EQ(ops::interpolate_backward(ones16, {1, 1, 2, 2}, {}, {2.0}).to_vector<double>(),
              (D{4, 4, 4, 4}));
    // 4 -> 3 nearest reads rows and columns 0, 1, 2 once each.
    EXPECT_EQ(ops::interpolate_backward(image(D(9, 1.0), {1, 1, 3, 3}), {1, 1, 4, 4}, {3})
                  .to_vector<double>(),
              (D{1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0}));
  });
}

TEST(Interpolate, AutogradMatchesBackwardOp) {
  Tensor x = image(two_by_two, {1, 1, 2, 2});
  x.set_requires_grad();
  D w;
  for (int i = 0; i < 16; ++i) w.push_back(i);
  Tensor weights = image(w, {1, 1, 4, 4});
  ops::sum(ops::interpolate(x, {4}, {}, "bilinear", true) * weights).backward();
  expect_near(x.grad().to_vector<double>(),
              ops::interpolate_backward(weights, {1, 1, 2, 2}, {4}, {}, "bilinear", true)
                  .to_vector<double>());
}

TEST(Interpolate, Gradcheck) {
  const std::vector<Tensor> inputs = {
      image({0.3, -1.2, 0.7, 2.1, -0.4, 1.5}, {1, 2, 1, 3}).transpose(2, 3)};
  for (bool align : {false, true}) {
    auto fwd = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{ops::interpolate(in[0], {}, {2.0, 1.5}, "bilinear", align)};
    };
    EXPECT_TRUE(autograd::gradcheck("interpolate", fwd, inputs)) << align;
  }
  auto nearest = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{ops::interpolate(in[0], {5, 2})};
  };
  EXPECT_TRUE(autograd::gradcheck("interpolate", nearest, inputs));
  auto backward = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{
        ops::interpolate_backward(in[0], {1, 2, 2, 2}, {3, 1}, {}, "bilinear")};
  };
  EXPECT_TRUE(autograd::gradcheck("interpolate_backward", backward, inputs));
}

TEST(Interpolate, ErrorsNameOpAndArgument) {
  Tensor x = image(two_by_two, {1, 1, 2, 2});
  std::string neither = error_message([&] { ops::interpolate(x); });
  EXPECT_NE(neither.find("interpolate"), std::string::npos) << neither;
  EXPECT_NE(neither.find("exactly one of size and scale_factor"), std::string::npos) << neither;
  std::string both = error_message([&] { ops::interpolate(x, {4}, {2.0}); });
  EXPECT_NE(both.find("exactly one of size and scale_factor"), std::string::npos) << both;
  std::string rank = error_message([&] { ops::interpolate(image({1, 2}, {1, 2}), {4}); });
  EXPECT_NE(rank.find("interpolate: input must be 4-d"), std::string::npos) << rank;
  std::string align = error_message([&] { ops::interpolate(x, {4}, {}, "nearest", true); });
  EXPECT_NE(align.find("interpolate: align_corners"), std::string::npos) << align;
  std::string mode = error_message([&] { ops::interpolate(x, {4}, {}, "bicubic"); });
  EXPECT_NE(mode.find("interpolate: mode"), std::string::npos) << mode;
  std::string empty = error_message([&] { ops::interpolate(x, {}, {0.25}); });
  EXPECT_NE(empty.find("interpolate: the output size must be positive"), std::string::npos)
      << empty;
  std::string grad = error_message([&] {
    ops::interpolate_backward(image(D(9, 1.0), {1, 1, 3, 3}), {1, 1, 2, 2}, {4});
  });
  EXPECT_NE(grad.find("interpolate_backward: grad_output"), std::string::npos) << grad;
}

}  // namespace
}  // namespace osprey
