// Hand-computed values, edge rules, layouts, determinism and error paths of roi_align and
// roi_align_backward, run on every CPU kernel.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "ops/common/case_helpers.h"
#include "ops/common/roi_cases.h"
#include "ops/roi_align/roi_align.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;

// A 1 × 1 × 4 × 4 map with x[r, c] = 4r + c + 1: bilinear interpolation of a linear function is
// exact, so a bin's mean is the function at the mean of its samples.
Tensor ramp(DType dtype = DType::f64) {
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = i + 1;
  return Tensor::from_vector<double>(v, {1, 1, 4, 4}).to(dtype);
}

Tensor rois_of(std::vector<double> v, DType dtype = DType::f64) {
  const int64_t k = static_cast<int64_t>(v.size() / 5);
  return Tensor::from_vector<double>(v, {k, 5}).to(dtype);
}

void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << i;
}

TEST(RoiAlign, AlignedBinsAreTheRampAtTheirCentres) {
  for_each_cpu_kernel("roi_align", [] {
    for (int64_t sampling : {1, 2, 0}) {
      // aligned: the box [0.5, 2.5]² becomes [0, 2]²; bins of 1 pixel centred at 0.5 and 1.5.
      Tensor y = ops::roi_align(ramp(), rois_of({0, 0.5, 0.5, 2.5, 2.5}), {2}, 1.0, sampling, true);
      expect_values(y, {3.5, 4.5, 7.5, 8.5});
    }
    // spatial_scale 0.5: the same box given in a twice larger image.
    Tensor y = ops::roi_align(ramp(), rois_of({0, 1, 1, 5, 5}), {2}, 0.5, 2, true);
    expect_values(y, {3.5, 4.5, 7.5, 8.5});
  });
}

TEST(RoiAlign, EdgeRules) {
  for_each_cpu_kernel("roi_align", [] {
    auto one = [](std::vector<double> box, bool aligned, int64_t sampling = 1) {
      return ops::roi_align(ramp(), rois_of(box), {1}, 1.0, sampling, aligned).item<double>();
    };
    // The sample at (-1, -1) is still inside the rule's [-1, H] and moves to pixel (0, 0).
    EXPECT_DOUBLE_EQ(one({0, -2, -2, 0, 0}, false), 1.0);
    // At (-2, -2) it is outside: 0.
    EXPECT_DOUBLE_EQ(one({0, -3, -3, -1, -1}, false), 0.0);
    // From the last row and column on the sample is that pixel: (3.5, 3.5) reads x[3, 3].
    EXPECT_DOUBLE_EQ(one({0, 3, 3, 4, 4}, false), 16.0);
    // Legacy rule: an empty box is one pixel wide, sampled at its centre (1.5, 1.5).
    EXPECT_DOUBLE_EQ(one({0, 1, 1, 1, 1}, false), 8.5);
    // aligned: an empty box has no adaptive samples (0) ...
    EXPECT_DOUBLE_EQ(one({0, 1, 1, 1, 1}, true, 0), 0.0);
    // ... and with fixed sampling all samples sit on its corner (0.5, 0.5).
    EXPECT_DOUBLE_EQ(one({0, 1, 1, 1, 1}, true, 2), 3.5);
  });
}

TEST(RoiAlign, BackwardSpreadsOverTheFourPixels) {
  for_each_cpu_kernel("roi_align_backward", [] {
    // One sample at (1.5, 1.5): a quarter of the gradient on each of its four pixels.
    Tensor g = Tensor::from_vector<double>({2.0}, {1, 1, 1, 1});
    Tensor gi =
        ops::roi_align_backward(g, rois_of({0, 1, 1, 2, 2}), {1, 1, 4, 4}, {1}, 1.0, 1, false);
    expect_values(gi, {0, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 0});
    // Two RoIs on the same pixel add up; a RoI of image 1 leaves image 0 alone.
    Tensor g2 = Tensor::from_vector<double>({1.0, 1.0, 5.0}, {3, 1, 1, 1});
    Tensor gi2 = ops::roi_align_backward(g2, rois_of({0, 3, 3, 4, 4, 0, 3, 3, 4, 4, 1, 0, 0, 1, 1}),
                                         {2, 1, 4, 4}, {1}, 1.0, 1, false);
    auto v = gi2.to_vector<double>();
    EXPECT_DOUBLE_EQ(v[15], 2.0);
    EXPECT_DOUBLE_EQ(v[16 + 5], 1.25);  // image 1: the sample (0.5, 0.5) gives 5 / 4 to (1, 1)
    EXPECT_DOUBLE_EQ(v[5], 0.0);
  });
}

TEST(RoiAlign, AutogradGivesRoiAlignBackward) {
  ops::CaseRandom rng(5);
  Tensor x = rng.uniform({2, 3, 6, 5}, DType::f64).set_requires_grad();
  Tensor rois = ops::case_rois(rng, 7, 2, 6, 5, 0.5, DType::f64);
  Tensor y = ops::roi_align(x, rois, {3, 2}, 0.5, 2, true);
  Tensor g = rng.uniform(y.shape(), DType::f64);
  y.backward(g);
  Tensor want = ops::roi_align_backward(g, rois, {2, 3, 6, 5}, {3, 2}, 0.5, 2, true);
  expect_values(x.grad(), want.to_vector<double>());
}

TEST(RoiAlign, ZeroRoisGiveEmptyOutputAndZeroGradient) {
  for_each_cpu_kernel("roi_align", [] {
    Tensor x = ramp().set_requires_grad();
    Tensor y = ops::roi_align(x, Tensor::empty({0, 5}, DType::f64), {2, 3}, 1.0, 2, true);
    EXPECT_EQ(y.shape(), (Shape{0, 1, 2, 3}));
    y.backward(Tensor::empty({0, 1, 2, 3}, DType::f64));
    expect_values(x.grad(), std::vector<double>(16, 0.0));
  });
}

TEST(RoiAlign, ChannelsLastInChannelsLastOut) {
  ops::CaseRandom rng(9);
  Tensor x = rng.uniform({2, 5, 6, 7}, DType::f32);
  Tensor rois = ops::case_rois(rng, 6, 2, 6, 7, 1.0, DType::f32);
  for_each_cpu_kernel("roi_align", [&] {
    Tensor want = ops::roi_align(x, rois, {3}, 1.0, 2, true);
    Tensor got = ops::roi_align(x.contiguous(MemoryFormat::channels_last), rois, {3}, 1.0, 2, true);
    EXPECT_TRUE(got.is_contiguous(MemoryFormat::channels_last));
    expect_values(got, want.to_vector<double>(), 1e-6);
  });
}

// The fast backward gives bitwise the same gradient with 1 and 2 threads (and from run to run).
TEST(RoiAlign, FastBackwardIsDeterministicAcrossThreadCounts) {
  ops::CaseRandom rng(13);
  const Shape size{2, 96, 12, 12};
  Tensor rois = ops::case_rois(rng, 64, 2, 12, 12, 0.5, DType::f32);
  Tensor g = rng.uniform({64, 96, 7, 7}, DType::f32);
  dispatch::Registry::instance().set_override("roi_align_backward", DeviceType::cpu, "fast");
  const int before = omp_get_max_threads();
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    return ops::roi_align_backward(g, rois, size, {7}, 0.5, 2, true).to_vector<float>();
  };
  const auto one = run(1), two = run(2), again = run(2);
  omp_set_num_threads(before);
  dispatch::Registry::instance().clear_override("roi_align_backward", DeviceType::cpu);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(two.data(), again.data(), two.size() * sizeof(float)), 0);
}

// Each bad argument: the error names the op and the argument.
std::string align_error(const Tensor& x, const Tensor& rois) {
  return error_message([&] { ops::roi_align(x, rois, {2}, 1.0, 2, true); });
}

TEST(RoiAlignErrors, RoisNotKx5) {
  const std::string m = align_error(ramp(), Tensor::empty({3, 4}, DType::f64));
  EXPECT_NE(m.find("roi_align: rois must be K × 5"), std::string::npos) << m;
  EXPECT_NE(m.find("[3, 4]"), std::string::npos) << m;
}

TEST(RoiAlignErrors, MismatchedDtypes) {
  const std::string m = align_error(ramp(), rois_of({0, 0, 0, 1, 1}, DType::f32));
  EXPECT_NE(m.find("roi_align: rois f32[1, 5]"), std::string::npos) << m;
  EXPECT_NE(m.find("dtype of input f64[1, 1, 4, 4]"), std::string::npos) << m;
}

TEST(RoiAlignErrors, BatchIndexOutOfRange) {
  std::string m = align_error(ramp(), rois_of({0, 0, 0, 1, 1, 1, 0, 0, 1, 1}));
  EXPECT_NE(m.find("roi_align: rois row 1 has batch index 1"), std::string::npos) << m;
  EXPECT_NE(m.find("[0, 1)"), std::string::npos) << m;
  m = align_error(ramp(), rois_of({-1, 0, 0, 1, 1}));
  EXPECT_NE(m.find("rois row 0 has batch index -1"), std::string::npos) << m;
  m = align_error(ramp(), rois_of({0.5, 0, 0, 1, 1}));
  EXPECT_NE(m.find("not an integer"), std::string::npos) << m;
}

TEST(RoiAlignErrors, X2BelowX1) {
  std::string m = align_error(ramp(), rois_of({0, 2, 0, 1, 1}));
  EXPECT_NE(m.find("roi_align: rois row 0"), std::string::npos) << m;
  EXPECT_NE(m.find("x1 <= x2"), std::string::npos) << m;
  m = align_error(ramp(), rois_of({0, 0, 2, 1, 1}));
  EXPECT_NE(m.find("y1 <= y2"), std::string::npos) << m;
}

TEST(RoiAlignErrors, NanCoordinates) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::string m = align_error(ramp(), rois_of({0, 0, 0, 1, 1, 0, 0, nan, 1, 1}));
  EXPECT_NE(m.find("roi_align: rois row 1"), std::string::npos) << m;
  EXPECT_NE(m.find("NaN or infinite"), std::string::npos) << m;
}

TEST(RoiAlignErrors, BadAttributesAndGradOutput) {
  std::string m = error_message([&] {
    ops::roi_align(ramp(), rois_of({0, 0, 0, 1, 1}), {0, 2}, 1.0, 2, true);
  });
  EXPECT_NE(m.find("roi_align: output_size must be positive"), std::string::npos) << m;
  m = error_message([&] { ops::roi_align(ramp(), rois_of({0, 0, 0, 1, 1}), {2}, -1.0, 2, true); });
  EXPECT_NE(m.find("roi_align: spatial_scale must be a positive number"), std::string::npos) << m;
  m = error_message([&] {
    ops::roi_align_backward(Tensor::empty({1, 2, 2, 2}, DType::f64), rois_of({0, 0, 0, 1, 1}),
                            {1, 1, 4, 4}, {2}, 1.0, 2, true);
  });
  EXPECT_NE(m.find("roi_align_backward: grad_output f64[1, 2, 2, 2]"), std::string::npos) << m;
  EXPECT_NE(m.find("[1, 1, 2, 2]"), std::string::npos) << m;
}

}  // namespace
}  // namespace osprey
