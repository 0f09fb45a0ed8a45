// Values, order and errors of anchor_grid and anchors_inside.
#include <gtest/gtest.h>

#include "ops/anchor_grid/anchor_grid.h"
#include "ops/anchors_inside/anchors_inside.h"
#include "tests/ops/box_test_util.h"

namespace osprey {
namespace {

using box_test::expect_error;
using box_test::f32;

TEST(AnchorGrid, PyFasterRcnnBaseAnchors) {
  // generate_anchors(base_size=16, ratios=[0.5, 1, 2], scales=[8, 16, 32]) of py-faster-rcnn.
  ops::AnchorGridOptions o;
  o.scales = {8, 16, 32};
  o.legacy_plus_one = true;
  EXPECT_EQ(ops::anchor_grid(o, DType::f64).to_vector<double>(),
            (std::vector<double>{-84, -40, 99, 55, -176, -88,  191, 103, -360, -184, 375, 199,
                                 -56, -56, 71, 71, -120, -120, 135, 135, -248, -248, 263, 263,
                                 -36, -80, 51, 95, -80,  -168, 95,  183, -168, -344, 183, 359}));
}

TEST(AnchorGrid, SniperAnchors) {
  ops::AnchorGridOptions o;  // SNIPER's defaults: 7 scales x 3 ratios
  o.legacy_plus_one = true;
  o.height = 32, o.width = 32;
  Tensor a = ops::anchor_grid(o);
  EXPECT_EQ(a.shape(), (Shape{32 * 32 * 21, 4}));
  // Ratio 0.5, scale 2: ws = round(sqrt(512)) = 23, hs = round(11.5) = 12 (half to even).
  EXPECT_EQ(a.at<float>({0, 0}), -15.0f);
  EXPECT_EQ(a.at<float>({0, 1}), -4.0f);
  EXPECT_EQ(a.at<float>({0, 2}), 30.0f);
  EXPECT_EQ(a.at<float>({0, 3}), 19.0f);
  // Ratio 1, scale 24: 384 px centred at 7.5; position (x 3, y 2) shifts by (48, 32).
  const int64_t row = (2 * 32 + 3) * 21 + 1 * 7 + 6;
  EXPECT_EQ(a.at<float>({row, 0}), 7.5f - 191.5f + 48);
  EXPECT_EQ(a.at<float>({row, 3}), 7.5f + 191.5f + 32);
}

TEST(AnchorGrid, TorchvisionConvention) {
  ops::AnchorGridOptions o;
  o.base_size = 32, o.scales = {1}, o.stride = 8, o.height = 1, o.width = 2;
  EXPECT_EQ(ops::anchor_grid(o, DType::f64).to_vector<double>(),
            (std::vector<double>{-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23,
                                 -15, -11, 31, 11, -8,  -16, 24, 16, -3,  -23, 19, 23}));
}

TEST(AnchorGrid, Errors) {
  ops::AnchorGridOptions o;
  o.ratios = {};
  expect_error([&] { ops::anchor_grid(o); }, {"anchor_grid", "'ratios'", "empty"});
  o = {};
  o.scales = {2, -1};
  expect_error([&] { ops::anchor_grid(o); }, {"anchor_grid", "'scales'", "positive"});
  o = {};
  o.stride = 0;
  expect_error([&] { ops::anchor_grid(o); }, {"anchor_grid", "'stride'"});
  expect_error([&] { ops::anchor_grid({}, DType::i64); }, {"anchor_grid", "'dtype'"});
}

TEST(AnchorsInside, SniperBorder) {
  Tensor anchors =
      f32({-32, -32, 543, 543, -33, 0, 10, 10, 0, 0, 544, 10, 0, 0, 10, 543.5f}, {4, 4});
  EXPECT_EQ(ops::anchors_inside(anchors, 512, 512, 32).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(ops::anchors_inside(anchors, 512, 512).to_vector<int64_t>(), (std::vector<int64_t>{}));
  EXPECT_EQ(ops::anchors_inside(Tensor::empty({0, 4}), 5, 5).shape(), (Shape{0}));
  expect_error([&] { ops::anchors_inside(anchors, 512, 0); },
               {"anchors_inside", "'image_size'", "[height, width]"});
  expect_error(
      [&] {
        ops::anchors_inside(f32({0, 0, 1}, {1, 3}), 5, 5);
      },
      {"anchors_inside", "'anchors'", "[N, 4]"});
}

}  // namespace
}  // namespace osprey
