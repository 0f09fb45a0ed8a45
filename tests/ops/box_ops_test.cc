// Values and errors of box_iou, box_iof, box_area, clip_boxes_to_image and remove_small_boxes.
#include <gtest/gtest.h>

#include "ops/box_area/box_area.h"
#include "ops/box_iou/box_iou.h"
#include "ops/clip_boxes_to_image/clip_boxes_to_image.h"
#include "ops/remove_small_boxes/remove_small_boxes.h"
#include "tests/ops/box_test_util.h"

namespace osprey {
namespace {

using box_test::expect_error;
using box_test::f32;
using box_test::f64;
using box_test::i64;

void expect_near_all(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-12) << i;
}

TEST(BoxIou, Values) {
  Tensor a = f64({0, 0, 10, 10, 2, 2, 4, 4}, {2, 4});
  Tensor b = f64({0, 0, 10, 10, 5, 0, 15, 10, 20, 20, 30, 30}, {3, 4});
  Tensor iou = ops::box_iou(a, b);
  EXPECT_EQ(iou.shape(), (Shape{2, 3}));
  expect_near_all(iou.to_vector<double>(), {1, 50.0 / 150, 0, 0.04, 0, 0});
  expect_near_all(ops::box_iof(a, b).to_vector<double>(), {1, 0.5, 0, 1, 0, 0});
  expect_near_all(ops::box_iof(b, a).to_vector<double>(), {1, 0.04, 0.5, 0, 0, 0});
}

TEST(BoxIou, LegacyPlusOneAndDegenerate) {
  // +1: [0, 9] and [5, 14] are 10 px wide and share 5 columns.
  Tensor a = f32({0, 0, 9, 9}, {1, 4}), b = f32({5, 0, 14, 9}, {1, 4});
  EXPECT_NEAR(ops::box_iou(a, b, true).item<float>(), 50.0f / 150.0f, 1e-6f);
  EXPECT_NEAR(ops::box_iou(a, b).item<float>(), 36.0f / 126.0f, 1e-6f);
  Tensor point = f32({3, 3, 3, 3}, {1, 4});
  EXPECT_EQ(ops::box_iou(point, point).item<float>(), 0.0f);  // empty union: 0, not NaN
  EXPECT_EQ(ops::box_iof(point, a).item<float>(), 0.0f);
  EXPECT_EQ(ops::box_iou(point, point, true).item<float>(), 1.0f);  // one pixel under +1
}

TEST(BoxIou, EmptyInputs) {
  EXPECT_EQ(ops::box_iou(Tensor::empty({0, 4}), f32({0, 0, 1, 1}, {1, 4})).shape(), (Shape{0, 1}));
  EXPECT_EQ(ops::box_iof(f32({0, 0, 1, 1}, {1, 4}), Tensor::empty({0, 4})).shape(), (Shape{1, 0}));
}

TEST(BoxIou, Errors) {
  Tensor good = f32({0, 0, 1, 1}, {1, 4});
  expect_error(
      [&] {
        ops::box_iou(good, f32({0, 0, 1}, {1, 3}));
      },
      {"box_iou", "'boxes2'", "[N, 4]", "f32[1, 3]"});
  expect_error(
      [&] {
        ops::box_iou(f32({2, 0, 1, 1}, {1, 4}), good);
      },
      {"box_iou", "'boxes1'", "box 0", "x2 < x1"});
  expect_error(
      [&] {
        ops::box_iof(good, f32({0, 0, 1, NAN}, {1, 4}));
      },
      {"box_iof", "'boxes2'", "NaN"});
  expect_error([&] { ops::box_iou(good, f64({0, 0, 1, 1}, {1, 4})); }, {"box_iou", "f64"});
  expect_error(
      [&] {
        ops::box_iou(f32({0, 0, 1, 1}, {4}), good);
      },
      {"box_iou", "'boxes1'", "[N, 4]"});
}

TEST(BoxArea, Values) {
  Tensor boxes = f64({0, 0, 10, 5, 1, 1, 1, 3}, {2, 4});
  expect_near_all(ops::box_area(boxes).to_vector<double>(), {50, 0});
  expect_near_all(ops::box_area(boxes, true).to_vector<double>(), {66, 3});
  EXPECT_EQ(ops::box_area(Tensor::empty({0, 4})).shape(), (Shape{0}));
  expect_error(
      [&] {
        ops::box_area(f64({0, 5, 10, 4}, {1, 4}));
      },
      {"box_area", "'boxes'", "y2 < y1"});
}

TEST(ClipBoxesToImage, Values) {
  Tensor boxes = f64({-5, -3, 20, 90, 70, 10, 90, 30}, {2, 4});
  expect_near_all(ops::clip_boxes_to_image(boxes, 60, 80).to_vector<double>(),
                  {0, 0, 20, 60, 70, 10, 80, 30});
  expect_near_all(ops::clip_boxes_to_image(boxes, 60, 80, true).to_vector<double>(),
                  {0, 0, 20, 59, 70, 10, 79, 30});
  EXPECT_EQ(ops::clip_boxes_to_image(Tensor::empty({0, 4}), 5, 5).shape(), (Shape{0, 4}));
  expect_error([&] { ops::clip_boxes_to_image(boxes, 0, 80); },
               {"clip_boxes_to_image", "'size'", "[height, width]"});
  expect_error(
      [&] {
        ops::clip_boxes_to_image(f64({0, 0, 1, 1, 0}, {1, 5}), 5, 5);
      },
      {"clip_boxes_to_image", "'boxes'", "[N, 4]"});
}

TEST(RemoveSmallBoxes, Values) {
  Tensor boxes = f32({0, 0, 10, 10, 0, 0, 9, 20, 0, 0, 20, 9.5f}, {3, 4});
  EXPECT_EQ(ops::remove_small_boxes(boxes, 10).to_vector<int64_t>(), (std::vector<int64_t>{0}));
  EXPECT_EQ(ops::remove_small_boxes(boxes, 10, true).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(ops::remove_small_boxes(Tensor::empty({0, 4}), 1).shape(), (Shape{0}));
  expect_error(
      [&] {
        ops::remove_small_boxes(i64({0, 0, 1, 1}, {1, 4}), 1);
      },
      {"remove_small_boxes", "'boxes'", "floating"});
  expect_error(
      [&] {
        ops::remove_small_boxes(f32({0, 0, 1, 1, 3, 0, 1, 1}, {2, 4}), 1);
      },
      {"remove_small_boxes", "'boxes'", "box 1", "x2 < x1"});
}

TEST(BoxOps, OutputsAreNotDifferentiable) {
  Tensor boxes = f64({0, 0, 10, 10, 2, 2, 4, 4}, {2, 4});
  boxes.set_requires_grad(true);
  EXPECT_FALSE(ops::box_iou(boxes, boxes).requires_grad());
  EXPECT_FALSE(ops::box_iof(boxes, boxes).requires_grad());
  EXPECT_FALSE(ops::box_area(boxes).requires_grad());
  EXPECT_FALSE(ops::clip_boxes_to_image(boxes, 5, 5).requires_grad());
  EXPECT_FALSE(ops::remove_small_boxes(boxes, 1).requires_grad());
}

}  // namespace
}  // namespace osprey
