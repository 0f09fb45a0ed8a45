// Values and errors of soft_nms: decays by method, SNIPER's selection order and drops.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/soft_nms/soft_nms.h"
#include "tests/ops/box_test_util.h"

namespace osprey {
namespace {

using box_test::expect_error;
using box_test::f32;
using box_test::f64;

// A and B overlap with IoU 0.5; C is apart.
Tensor abc() {
  return f64({0, 0, 10, 10, 0, 0, 10, 5, 20, 20, 30, 30}, {3, 4});
}
Tensor abc_scores() {
  return f64({0.9, 0.8, 0.7}, {3});
}

TEST(SoftNms, Gaussian) {
  auto [keep, scores] = ops::soft_nms(abc(), abc_scores());
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 1}));
  std::vector<double> s = scores.to_vector<double>();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0], 0.9);
  EXPECT_DOUBLE_EQ(s[1], 0.7);
  EXPECT_NEAR(s[2], 0.8 * std::exp(-0.25 / 0.5), 1e-12);
}

TEST(SoftNms, SniperSettings) {
  // +1 convention: A = [0, 0, 9, 9] (area 100), B = [0, 0, 9, 4] (area 50): IoU 0.5.
  ops::SoftNmsOptions o;
  o.sigma = 0.55;
  o.legacy_plus_one = true;
  auto [keep, scores] =
      ops::soft_nms(f64({0, 0, 9, 9, 0, 0, 9, 4}, {2, 4}), f64({0.9, 0.8}, {2}), o);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_NEAR(scores.to_vector<double>()[1], 0.8 * std::exp(-0.25 / 0.55), 1e-12);
}

TEST(SoftNms, LinearAndHard) {
  ops::SoftNmsOptions o;
  o.method = "linear";
  auto [keep, scores] = ops::soft_nms(abc(), abc_scores(), o);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 1}));
  EXPECT_NEAR(scores.to_vector<double>()[2], 0.4, 1e-12);
  o.iou_threshold = 0.5;  // IoU 0.5 is not above it: no decay
  std::tie(keep, scores) = ops::soft_nms(abc(), abc_scores(), o);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
  o.method = "hard";
  o.iou_threshold = 0.3;
  std::tie(keep, scores) = ops::soft_nms(abc(), abc_scores(), o);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(scores.to_vector<double>(), (std::vector<double>{0.9, 0.7}));
}

TEST(SoftNms, DroppedBoxIsReplacedByTheLast) {
  // B is dropped at position 1 and D (the last) takes its place; with D and C tied, the first
  // position wins, so D (now before C) is selected first: SNIPER's order, not index order.
  Tensor boxes = f64({0, 0, 10, 10, 0, 0, 10, 5, 20, 20, 30, 30, 40, 40, 50, 50}, {4, 4});
  ops::SoftNmsOptions o;
  o.method = "hard";
  auto [keep, scores] = ops::soft_nms(boxes, f64({0.9, 0.8, 0.6, 0.6}, {4}), o);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 2}));
}

TEST(SoftNms, Empty) {
  auto [keep, scores] = ops::soft_nms(Tensor::empty({0, 4}), Tensor::empty({0}));
  EXPECT_EQ(keep.shape(), (Shape{0}));
  EXPECT_EQ(scores.shape(), (Shape{0}));
}

TEST(SoftNms, Errors) {
  ops::SoftNmsOptions o;
  o.method = "cubic";
  expect_error([&] { ops::soft_nms(abc(), abc_scores(), o); }, {"soft_nms", "'method'", "cubic"});
  o = {};
  o.sigma = 0;
  expect_error([&] { ops::soft_nms(abc(), abc_scores(), o); }, {"soft_nms", "'sigma'"});
  expect_error([&] { ops::soft_nms(abc(), f64({1, 2}, {2})); }, {"soft_nms", "'scores'", "[3]"});
  expect_error(
      [&] {
        ops::soft_nms(f32({0, 0, 1, 1}, {1, 4}), f64({1}, {1}));
      },
      {"soft_nms", "'scores'", "dtype"});
  expect_error(
      [&] {
        ops::soft_nms(f64({0, 0, NAN, 1}, {1, 4}), f64({1}, {1}));
      },
      {"soft_nms", "'boxes'", "NaN"});
}

}  // namespace
}  // namespace osprey
