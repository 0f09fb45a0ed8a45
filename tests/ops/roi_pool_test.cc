// Hand-computed values, empty bins, autograd and error paths of roi_pool and roi_pool_backward.
#include <gtest/gtest.h>

#include <limits>

#include "ops/roi_pool/roi_pool.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;

// x[r, c] = 4r + c on a 1 × 1 × 4 × 4 map: every bin's maximum is its bottom-right pixel.
Tensor ramp(DType dtype = DType::f64) {
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = i;
  return Tensor::from_vector<double>(v, {1, 1, 4, 4}).to(dtype);
}

Tensor rois_of(std::vector<double> v, DType dtype = DType::f64) {
  const int64_t k = static_cast<int64_t>(v.size() / 5);
  return Tensor::from_vector<double>(v, {k, 5}).to(dtype);
}

void expect_values(const Tensor& t, const std::vector<double>& want) {
  auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(got[i], want[i]) << i;
}

TEST(RoiPool, HandComputedMaximaAndArgmax) {
  for_each_cpu_kernel("roi_pool", [] {
    // (0, 0)-(3, 3): 4 × 4 pixels, bins of 2 × 2.
    auto [y, idx] = ops::roi_pool(ramp(), rois_of({0, 0, 0, 3, 3}), {2});
    expect_values(y, {5, 7, 13, 15});
    expect_values(idx, {5, 7, 13, 15});
    // spatial_scale 0.5 rounds (1.2, 0.3, 2.1, 1.3) to (1, 0, 2, 1): columns 1..2, rows 0..1.
    auto [y2, idx2] = ops::roi_pool(ramp(), rois_of({0, 2.4, 0.6, 4.2, 2.6}), {1, 2}, 0.5);
    expect_values(y2, {5, 6});
    // A box right of the map: every bin is empty, 0 with argmax -1.
    auto [y3, idx3] = ops::roi_pool(ramp(), rois_of({0, 5, 0, 6, 1}), {1});
    expect_values(y3, {0});
    expect_values(idx3, {-1});
  });
}

TEST(RoiPool, FirstOfEqualValuesWins) {
  Tensor x = Tensor::from_vector<double>(std::vector<double>(16, 2.0), {1, 1, 4, 4});
  auto [y, idx] = ops::roi_pool(x, rois_of({0, 1, 1, 2, 2}), {1});
  expect_values(idx, {5});
}

TEST(RoiPool, GradientGoesToTheArgmax) {
  Tensor x = ramp().set_requires_grad();
  auto [y, idx] = ops::roi_pool(x, rois_of({0, 0, 0, 3, 3, 0, 2, 2, 3, 3}), {2});
  y.backward(Tensor::from_vector<double>({1, 2, 3, 4, 10, 20, 30, 40}, {2, 1, 2, 2}));
  // Box 1: maxima at 5, 7, 13, 15. Box 2 = (2, 2)-(3, 3): one pixel per bin, 10, 11, 14, 15.
  std::vector<double> want(16, 0.0);
  want[5] = 1;
  want[7] = 2;
  want[13] = 3;
  want[15] = 4 + 40;
  want[10] = 10;
  want[11] = 20;
  want[14] = 30;
  expect_values(x.grad(), want);
}

TEST(RoiPool, ZeroRois) {
  auto [y, idx] = ops::roi_pool(ramp(), Tensor::empty({0, 5}, DType::f64), {2});
  EXPECT_EQ(y.shape(), (Shape{0, 1, 2, 2}));
  EXPECT_EQ(idx.dtype(), DType::i64);
}

std::string pool_error(const Tensor& x, const Tensor& rois) {
  return error_message([&] { ops::roi_pool(x, rois, {2}); });
}

TEST(RoiPoolErrors, RoisNotKx5) {
  const std::string m = pool_error(ramp(), Tensor::empty({5}, DType::f64));
  EXPECT_NE(m.find("roi_pool: rois must be K × 5"), std::string::npos) << m;
}

TEST(RoiPoolErrors, MismatchedDtypes) {
  const std::string m = pool_error(ramp(DType::f32), rois_of({0, 0, 0, 1, 1}));
  EXPECT_NE(m.find("roi_pool: rois f64[1, 5] cpu must have the dtype of input f32"),
            std::string::npos)
      << m;
}

TEST(RoiPoolErrors, BatchIndexOutOfRange) {
  const std::string m = pool_error(ramp(), rois_of({3, 0, 0, 1, 1}));
  EXPECT_NE(m.find("roi_pool: rois row 0 has batch index 3"), std::string::npos) << m;
}

TEST(RoiPoolErrors, X2BelowX1) {
  const std::string m = pool_error(ramp(), rois_of({0, 1, 0, 0, 1}));
  EXPECT_NE(m.find("roi_pool: rois row 0"), std::string::npos) << m;
  EXPECT_NE(m.find("x1 <= x2"), std::string::npos) << m;
}

TEST(RoiPoolErrors, NanCoordinates) {
  const std::string m =
      pool_error(ramp(), rois_of({0, 0, std::numeric_limits<double>::quiet_NaN(), 1, 1}));
  EXPECT_NE(m.find("roi_pool: rois row 0"), std::string::npos) << m;
  EXPECT_NE(m.find("NaN or infinite"), std::string::npos) << m;
}

TEST(RoiPoolErrors, BackwardArgmaxShape) {
  const std::string m = error_message([&] {
    ops::roi_pool_backward(Tensor::empty({1, 1, 2, 2}, DType::f64), rois_of({0, 0, 0, 1, 1}),
                           Tensor::empty({1, 1, 2, 3}, DType::i64), {1, 1, 4, 4});
  });
  EXPECT_NE(m.find("roi_pool_backward: argmax i64[1, 1, 2, 3]"), std::string::npos) << m;
}

}  // namespace
}  // namespace osprey
