// The fused classification transform: crops at known offsets give known pixels, flips mirror them,
// normalisation gives known values, and the seeded choices are pure functions of
// (seed, epoch, index).
#include <gtest/gtest.h>

#include <set>

#include "data/transforms.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using testing::expect_error;

// A 1×4×4 f32 image whose pixel (y, x) is 10·y + x.
Tensor grid_image() {
  std::vector<float> values;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) values.push_back(static_cast<float>(10 * y + x));
  }
  return Tensor::from_vector<float>(values, {1, 4, 4});
}

TEST(Transforms, CropAtKnownOffsetsWithZeroPadding) {
  ClassificationTransform transform(TransformConfig{.pad = 2, .crop = 4});
  // Window rows 1…4, columns 3…6 of the 8×8 padded image = image rows -1…2, columns 1…4.
  Tensor out = transform.apply(grid_image(), TransformChoice{1, 3, false});
  EXPECT_EQ(out.shape(), (Shape{1, 4, 4}));
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0, 0, 0, 0,     //
                                                        1, 2, 3, 0,     //
                                                        11, 12, 13, 0,  //
                                                        21, 22, 23, 0}));
  // Top-left corner: only the image's top-left 2×2 is visible.
  out = transform.apply(grid_image(), TransformChoice{0, 0, false});
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0, 0, 0, 0,  //
                                                        0, 0, 0, 0,  //
                                                        0, 0, 0, 1,  //
                                                        0, 0, 10, 11}));
  // The centre of the padded image is the image itself.
  EXPECT_EQ(transform.apply(grid_image(), TransformChoice{2, 2, false}).to_vector<float>(),
            grid_image().to_vector<float>());
  expect_error(
      [&] {
        transform.apply(grid_image(), TransformChoice{5, 0, false});
      },
      ErrorKind::value, "transform: crop window 4x4 at (5, 0) leaves the padded image 8x8");
}

TEST(Transforms, FlipMirrorsTheCropWindow) {
  ClassificationTransform transform(TransformConfig{.pad = 2, .crop = 4, .flip = true});
  Tensor out = transform.apply(grid_image(), TransformChoice{1, 3, true});
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0, 0, 0, 0,     //
                                                        0, 3, 2, 1,     //
                                                        0, 13, 12, 11,  //
                                                        0, 23, 22, 21}));
  ClassificationTransform plain;
  EXPECT_EQ(plain.apply(grid_image(), TransformChoice{0, 0, true}).to_vector<float>(),
            (std::vector<float>{3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20, 33, 32, 31, 30}));
}

TEST(Transforms, NonContiguousInput) {
  // A transposed view: pixel (y, x) of the view is 10·x + y.
  Tensor view = grid_image().transpose(1, 2);
  ClassificationTransform transform(TransformConfig{.crop = 2});
  EXPECT_EQ(transform.apply(view, TransformChoice{1, 2, false}).to_vector<float>(),
            (std::vector<float>{21, 31, 22, 32}));
}

TEST(Transforms, NormalisationOfBytesAndFloats) {
  // u8 pixels are scaled to [0, 1] first: 51 → 0.2; padding is 0 → (0 - mean) / std.
  Tensor bytes = Tensor::from_vector<uint8_t>({51, 255, 0, 102}, {1, 2, 2});
  ClassificationTransform transform(TransformConfig{.pad = 1, .mean = {0.5f}, .std = {0.25f}});
  Tensor out = transform.apply(bytes, TransformChoice{0, 0, false});
  ASSERT_EQ(out.shape(), (Shape{1, 4, 4}));
  std::vector<float> values = out.to_vector<float>();
  std::vector<float> expected = {-2, -2, -2,    -2, -2, -1.2f, 2,  -2,
                                 -2, -2, -0.4f, -2, -2, -2,    -2, -2};
  for (size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(values[i], expected[i], 1e-6) << i;

  // Per-channel statistics on a 3-channel f32 image.
  Tensor rgb = Tensor::from_vector<float>({1, 2, 3}, {3, 1, 1});
  ClassificationTransform per_channel(
      TransformConfig{.mean = {1.0f, 0.0f, 2.0f}, .std = {1.0f, 2.0f, 0.5f}});
  values = per_channel.apply(rgb, TransformChoice{}).to_vector<float>();
  EXPECT_NEAR(values[0], 0.0f, 1e-6);
  EXPECT_NEAR(values[1], 1.0f, 1e-6);
  EXPECT_NEAR(values[2], 2.0f, 1e-6);
  expect_error([&] { per_channel.apply(grid_image(), TransformChoice{}); }, ErrorKind::shape,
               "transform: 3 mean/std values for an image of 1 channels ([1, 4, 4])");
}

TEST(Transforms, ConfigErrors) {
  expect_error([] { ClassificationTransform(TransformConfig{.std = {0.0f}}); }, ErrorKind::value,
               "transform: std entries must be positive, got 0");
  ClassificationTransform too_big(TransformConfig{.pad = 1, .crop = 7});
  expect_error(
      [&] {
        too_big.output_shape({1, 4, 4});
      },
      ErrorKind::shape,
      "transform: crop 7 is larger than the padded image 6x6 (image [1, 4, 4], pad 1)");
  expect_error(
      [&] {
        too_big.output_shape({4, 4});
      },
      ErrorKind::shape, "transform: expected a C×H×W image, got [4, 4]");
}

TEST(Transforms, SeededChoicesArePureFunctions) {
  ClassificationTransform transform(TransformConfig{.pad = 4, .crop = 28, .flip = true});
  const Shape shape{1, 28, 28};
  std::set<int64_t> tops, lefts;
  int flips = 0, differ_by_epoch = 0;
  for (int64_t index = 0; index < 2000; ++index) {
    TransformChoice a = transform.choose(7, 3, index, shape);
    EXPECT_EQ(a, transform.choose(7, 3, index, shape));
    ASSERT_GE(a.top, 0);
    ASSERT_LE(a.top, 8);
    ASSERT_GE(a.left, 0);
    ASSERT_LE(a.left, 8);
    tops.insert(a.top);
    lefts.insert(a.left);
    flips += a.flip;
    differ_by_epoch += !(a == transform.choose(7, 4, index, shape));
  }
  EXPECT_EQ(tops.size(), 9u);
  EXPECT_EQ(lefts.size(), 9u);
  EXPECT_NEAR(flips, 1000, 120);
  EXPECT_GT(differ_by_epoch, 1700);
  // Without randomness: the centred window, no flip, whatever the seed.
  ClassificationTransform centred(TransformConfig{.crop = 2, .random_crop = false});
  EXPECT_EQ(centred.choose(1, 2, 3, {1, 4, 4}), (TransformChoice{1, 1, false}));
  EXPECT_EQ(centred.apply(grid_image(), 1, 2, 3).to_vector<float>(),
            (std::vector<float>{11, 12, 21, 22}));
}

}  // namespace
}  // namespace osprey::data
