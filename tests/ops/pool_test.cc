// Known values, output-size rules, layouts, gradients and error paths of the 2-d pooling ops,
// run on every CPU kernel of each op.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/elementwise/elementwise.h"
#include "ops/pool/pool.h"
#include "ops/pool/pool_geometry.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;
using D = std::vector<double>;
using I = std::vector<int64_t>;

Tensor image(const D& values, const Shape& shape) {
  return Tensor::from_vector<double>(values, shape);
}

void expect_near(const std::vector<double>& actual, const D& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-12) << i;
}

TEST(MaxPool2d, FourByFourTwoByTwo) {
  Tensor x = image({1, 5, 2, 0, 3, 4, 8, 7, 9, 0, 1, 2, 6, 3, 5, 4}, {1, 1, 4, 4});
  for_each_cpu_kernel("max_pool2d", [&] {
    auto [y, idx] = ops::max_pool2d(x, {2});
    EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
    EXPECT_EQ(y.to_vector<double>(), (D{5, 8, 9, 5}));
    EXPECT_EQ(idx.to_vector<int64_t>(), (I{1, 6, 8, 14}));  // flat h*W+w in the plane
  });
}

// A NaN wins its window over every number (as in PyTorch), wherever it lies in the window.
TEST(MaxPool2d, NanWinsItsWindow) {
  const double nan = std::nan("");
  Tensor x = image({1, nan, 2, 0, 3, 4, 8, 7, 9, 0, 1, 2, nan, 3, 5, nan}, {1, 1, 4, 4});
  for_each_cpu_kernel("max_pool2d", [&] {
    auto [y, idx] = ops::max_pool2d(x, {2});
    const D v = y.to_vector<double>();
    EXPECT_TRUE(std::isnan(v[0]));
    EXPECT_EQ(v[1], 8);
    EXPECT_TRUE(std::isnan(v[2]));
    EXPECT_TRUE(std::isnan(v[3]));
    EXPECT_EQ(idx.to_vector<int64_t>(), (I{1, 6, 12, 15}));
  });
}

TEST(MaxPool2d, ChannelsLastAndStridedMatchContiguous) {
  D v;
  for (int i = 0; i < 2 * 3 * 4 * 5; ++i) v.push_back((i * 37) % 120);  // distinct
  Tensor x = image(v, {2, 3, 4, 5});
  auto [y, idx] = ops::max_pool2d(x, {3, 2}, {1, 2}, {1, 1});
  for (Tensor other : {x.contiguous(MemoryFormat::channels_last),
                       x.transpose(2, 3).contiguous().transpose(2, 3)}) {
    auto [y2, idx2] = ops::max_pool2d(other, {3, 2}, {1, 2}, {1, 1});
    EXPECT_EQ(y2.to_vector<double>(), y.to_vector<double>());
    EXPECT_EQ(idx2.to_vector<int64_t>(), idx.to_vector<int64_t>());
  }
}

TEST(MaxPool2d, CeilModeOutputSizes) {
  // floor((5 - 2) / 2) + 1 = 2; rounded up 3, the last window holding column 4 alone.
  EXPECT_EQ(ops::pool_output_size(5, 2, 2, 0, 1, false), 2);
  EXPECT_EQ(ops::pool_output_size(5, 2, 2, 0, 1, true), 3);
  // Padded by 1: rounding up gives 4, but window 4 would start at 6 - 1 = 5, in the right
  // padding, so PyTorch drops it.
  EXPECT_EQ(ops::pool_output_size(5, 2, 2, 1, 1, true), 3);
  // Here the extra window starts at 6 - 1 = 5, inside the input, and stays.
  EXPECT_EQ(ops::pool_output_size(6, 3, 2, 1, 1, false), 3);
  EXPECT_EQ(ops::pool_output_size(6, 3, 2, 1, 1, true), 4);
  EXPECT_EQ(ops::pool_output_size(2, 3, 1, 0, 1, false), 0);  // kernel larger than input

  D v(25);
  for (int i = 0; i < 25; ++i) v[i] = i;
  Tensor x = image(v, {1, 1, 5, 5});
  for_each_cpu_kernel("max_pool2d", [&] {
    auto [y, idx] = ops::max_pool2d(x, {2}, {2}, {0}, {1}, true);
    EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
    EXPECT_EQ(y.to_vector<double>(), (D{6, 8, 9, 16, 18, 19, 21, 23, 24}));
    EXPECT_EQ(ops::max_pool2d(x, {2}, {2}, {1}, {1}, true).first.shape(), (Shape{1, 1, 3, 3}));
    EXPECT_EQ(ops::max_pool2d(x, {2}, {2}, {0}, {1}, false).first.shape(), (Shape{1, 1, 2, 2}));
  });
}

TEST(MaxPool2d, PaddingAndDilation) {
  D v(16);
  for (int i = 0; i < 16; ++i) v[i] = -i;  // largest at the top left
  Tensor x = image(v, {1, 1, 4, 4});
  for_each_cpu_kernel("max_pool2d", [&] {
    // Padding never wins even though every value is negative.
    auto [y, idx] = ops::max_pool2d(x, {3}, {3}, {1});
    EXPECT_EQ(y.to_vector<double>(), (D{0, -2, -8, -10}));
    EXPECT_EQ(idx.to_vector<int64_t>(), (I{0, 2, 8, 10}));
    // Dilation 2: window (0,0) reads rows/columns 0 and 2.
    auto [yd, idxd] = ops::max_pool2d(x, {2}, {1}, {0}, {2});
    EXPECT_EQ(yd.shape(), (Shape{1, 1, 2, 2}));
    EXPECT_EQ(idxd.to_vector<int64_t>(), (I{0, 1, 4, 5}));
  });
}

// The stem's 3x3/2 pooling with padding on rows of ties and NaNs (cpu/planes runs it a row of
// windows at a time): every kernel keeps the reference's winner, the first of equal maxima and
// the last NaN of a window, in f32 and f64.
TEST(MaxPool2d, StrideTwoTiesAndNaNsPickTheReferenceWinner) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  D values(2 * 7 * 9);
  for (size_t k = 0; k < values.size(); ++k) values[k] = double(k % 4);  // ties in every window
  values[12] = nan;
  values[20] = nan;
  values[40] = nan;
  values[90] = 7;
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = image(values, {1, 2, 7, 9}).to(dtype);
    std::vector<double> want_values;
    std::vector<int64_t> want_indices;
    for_each_cpu_kernel("max_pool2d", [&] {
      auto [y, idx] = ops::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
      ASSERT_EQ(y.shape(), (Shape{1, 2, 4, 5}));
      if (want_values.empty()) {  // the first kernel is the highest priority; compare all
        want_values = y.to_vector<double>();
        want_indices = idx.to_vector<int64_t>();
      }
      const auto got = y.to_vector<double>();
      for (size_t k = 0; k < got.size(); ++k) {
        EXPECT_TRUE(got[k] == want_values[k] || (std::isnan(got[k]) && std::isnan(want_values[k])))
            << k;
      }
      EXPECT_EQ(idx.to_vector<int64_t>(), want_indices);
    });
    // Window (0, 0, 1, 1) covers rows 1-3, columns 1-3: NaNs at 12 and 20, the last wins.
    EXPECT_EQ(want_indices[6], 20);
    EXPECT_TRUE(std::isnan(want_values[6]));
  }
}

TEST(MaxPool2d, GradientGoesToTheMaxima) {
  Tensor x = image({1, 5, 2, 0, 3, 4, 8, 7, 9, 0, 1, 2, 6, 3, 5, 4}, {1, 1, 4, 4});
  x.set_requires_grad();
  Tensor w = image({1, 2, 3, 4}, {1, 1, 2, 2});
  ops::sum(ops::max_pool2d(x, {2}).first * w).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (D{0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0}));

  // Overlapping windows that share a maximum add their gradients there.
  Tensor g = image({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor idx = Tensor::from_vector<int64_t>({4, 4, 4, 8}, {1, 1, 2, 2});
  for_each_cpu_kernel("max_pool2d_backward", [&] {
    EXPECT_EQ(ops::max_pool2d_backward(g, idx, {1, 1, 3, 3}).to_vector<double>(),
              (D{0, 0, 0, 0, 6, 0, 0, 0, 4}));
  });
}

TEST(AvgPool2d, CountIncludePad) {
  Tensor ones = image(D(9, 1.0), {1, 1, 3, 3});
  for_each_cpu_kernel("avg_pool2d", [&] {
    // Corners see 4 of 9 positions inside the input, edges 6, the centre 9.
    expect_near(ops::avg_pool2d(ones, {3}, {1}, {1}, false, true).to_vector<double>(),
                {4 / 9., 6 / 9., 4 / 9., 6 / 9., 1, 6 / 9., 4 / 9., 6 / 9., 4 / 9.});
    expect_near(ops::avg_pool2d(ones, {3}, {1}, {1}, false, false).to_vector<double>(), D(9, 1));
  });
  Tensor x = image({1, 2, 3, 4}, {1, 1, 2, 2});
  for_each_cpu_kernel("avg_pool2d", [&] {
    // 2x2 kernel, padding 1, stride 2: each window holds one input element.
    expect_near(ops::avg_pool2d(x, {2}, {2}, {1}, false, true).to_vector<double>(),
                {0.25, 0.5, 0.75, 1});
    expect_near(ops::avg_pool2d(x, {2}, {2}, {1}, false, false).to_vector<double>(), {1, 2, 3, 4});
    expect_near(ops::avg_pool2d(x, {2}).to_vector<double>(), {2.5});
  });
}

TEST(AvgPool2d, CeilModeWindowPastThePaddingIsNotCounted) {
  D v(25);
  for (int i = 0; i < 25; ++i) v[i] = i;
  Tensor x = image(v, {1, 1, 5, 5});
  for_each_cpu_kernel("avg_pool2d", [&] {
    // The last row/column of windows covers input row/column 4 alone and no padding, so even
    // count_include_pad divides by what lies inside the input, as PyTorch does.
    Tensor y = ops::avg_pool2d(x, {2}, {2}, {0}, true, true);
    EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
    expect_near(y.to_vector<double>(), {3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24});
  });
}

TEST(AvgPool2d, GradientSpreadsOverWindows) {
  Tensor g = image({4, 8}, {1, 1, 1, 2});
  for_each_cpu_kernel("avg_pool2d_backward", [&] {
    // kernel (1, 2), stride 1 over width 3: the middle column is in both windows.
    expect_near(ops::avg_pool2d_backward(g, {1, 1, 1, 3}, {1, 2}, {1}).to_vector<double>(),
                {2, 6, 4});
  });
}

TEST(AdaptiveAvgPool2d, FiveToThreeBins) {
  D v(25);
  for (int i = 0; i < 25; ++i) v[i] = i;  // x[h][w] = 5h + w
  Tensor x = image(v, {1, 1, 5, 5});
  for_each_cpu_kernel("adaptive_avg_pool2d", [&] {
    // Bins [0, 2), [1, 4), [3, 5) have means 0.5, 2, 3.5 along each dim.
    D m{0.5, 2, 3.5}, expected;
    for (double mh : m) {
      for (double mw : m) expected.push_back(5 * mh + mw);
    }
    Tensor y = ops::adaptive_avg_pool2d(x, {3});
    EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
    expect_near(y.to_vector<double>(), expected);
    EXPECT_EQ(ops::adaptive_bin_start(1, 5, 3), 1);
    EXPECT_EQ(ops::adaptive_bin_end(1, 5, 3), 4);
  });
}

TEST(AdaptiveAvgPool2d, GlobalPoolingIsTheMean) {
  D v;
  for (int i = 0; i < 2 * 3 * 4 * 5; ++i) v.push_back(0.1 * ((i * 7) % 13));
  Tensor x = image(v, {2, 3, 4, 5});
  Tensor mean = ops::mean(x, {2, 3}, true);
  for_each_cpu_kernel("adaptive_avg_pool2d", [&] {
    Tensor y = ops::adaptive_avg_pool2d(x.contiguous(MemoryFormat::channels_last), {1, 1});
    EXPECT_EQ(y.shape(), (Shape{2, 3, 1, 1}));
    expect_near(y.to_vector<double>(), mean.to_vector<double>());
  });
  for_each_cpu_kernel("adaptive_avg_pool2d_backward", [&] {
    expect_near(ops::adaptive_avg_pool2d_backward(image({20}, {1, 1, 1, 1}), {1, 1, 4, 5})
                    .to_vector<double>(),
                D(20, 1.0));
  });
}

TEST(Pool2d, ErrorsNameOpAndShapes) {
  Tensor x = image({1, 2, 3, 4}, {1, 1, 2, 2});
  std::string big = error_message([&] { ops::max_pool2d(x, {3}); });
  EXPECT_NE(big.find("max_pool2d"), std::string::npos) << big;
  EXPECT_NE(big.find("larger than input [1, 1, 2, 2]"), std::string::npos) << big;
  EXPECT_NE(big.find("kernel_size (3, 3)"), std::string::npos) << big;

  std::string pad = error_message([&] { ops::avg_pool2d(x, {2}, {1}, {2}); });
  EXPECT_NE(pad.find("avg_pool2d: padding (2, 2) must be at most half of kernel_size (2, 2)"),
            std::string::npos)
      << pad;

  std::string rank = error_message([&] { ops::max_pool2d(image({1, 2}, {1, 2}), {1}); });
  EXPECT_NE(rank.find("max_pool2d: input must be 4-d (N, C, H, W), got shape [1, 2]"),
            std::string::npos)
      << rank;

  std::string adaptive = error_message([&] {
    ops::adaptive_avg_pool2d(Tensor::empty({1, 0, 1, 1}, DType::f64), {1});
  });
  EXPECT_NE(adaptive.find("adaptive_avg_pool2d: input [1, 0, 1, 1] must have non-zero C"),
            std::string::npos)
      << adaptive;

  std::string grad = error_message([&] {
    ops::avg_pool2d_backward(image({1, 2}, {1, 1, 1, 2}), {1, 1, 4, 4}, {2});
  });
  EXPECT_NE(grad.find("avg_pool2d_backward: grad_output f64[1, 1, 1, 2]"), std::string::npos)
      << grad;
  EXPECT_NE(grad.find("[1, 1, 2, 2]"), std::string::npos) << grad;
}

TEST(Pool2d, EmptyBatch) {
  Tensor x = Tensor::empty({0, 2, 4, 4}, DType::f64);
  EXPECT_EQ(ops::max_pool2d(x, {2}).first.shape(), (Shape{0, 2, 2, 2}));
  EXPECT_EQ(ops::avg_pool2d(x, {2}).shape(), (Shape{0, 2, 2, 2}));
  EXPECT_EQ(ops::adaptive_avg_pool2d(x, {3}).shape(), (Shape{0, 2, 3, 3}));
}

}  // namespace
}  // namespace osprey
