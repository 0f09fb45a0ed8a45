// Detection transforms: a drawn rectangle stays framed by its box, and its mask stays on it,
// through crop, resize, flip and pad; boxes leaving a crop are clipped or dropped and counted;
// normalisation and photometric jitter give known values; choices are pure functions of
// (seed, epoch, index). Also the image resize helpers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "data/detection/detection_transform.h"
#include "data/image/resize.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

using testing::expect_error;

// 80×60 grey-ish background (R, G, B) = (20, 40, 60) with a (200, 180, 160) rectangle over pixels
// x in [20, 40), y in [10, 30), i.e. the continuous box (20, 10, 40, 30); its mask is class 3 on
// the rectangle, 0 elsewhere.
DetectionSample rectangle_sample() {
  DetectionSample s;
  s.image = Image(80, 60, 3);
  s.mask = Image(80, 60, 1);
  for (int y = 0; y < 60; ++y) {
    for (int x = 0; x < 80; ++x) {
      const bool inside = x >= 20 && x < 40 && y >= 10 && y < 30;
      for (int c = 0; c < 3; ++c) {
        s.image.at(y, x, c) = static_cast<uint8_t>(inside ? 200 - 20 * c : 20 + 20 * c);
      }
      s.mask.at(y, x, 0) = inside ? 3 : 0;
    }
  }
  s.objects.push_back(Object{{20, 10, 40, 30}, 5});
  return s;
}

// The smallest pixel rectangle (x1, y1, x2, y2), exclusive ends, holding every pixel of the
// H×W plane `values` for which `inside` holds.
template <typename T, typename Pred>
std::array<float, 4> extent(const T* values, int height, int width, int valid_h, int valid_w,
                            Pred inside) {
  int x1 = width, y1 = height, x2 = 0, y2 = 0;
  for (int y = 0; y < valid_h; ++y) {
    for (int x = 0; x < valid_w; ++x) {
      if (!inside(values[size_t(y) * width + x])) continue;
      x1 = std::min(x1, x);
      y1 = std::min(y1, y);
      x2 = std::max(x2, x + 1);
      y2 = std::max(y2, y + 1);
    }
  }
  return {float(x1), float(y1), float(x2), float(y2)};
}

TEST(DetectionTransform, BoxAndMaskFollowTheRectangleThroughCropResizeFlipPad) {
  DetectionTransform transform(
      DetectionTransformConfig{.short_sides = {80}, .flip = true, .pad_multiple = 32});
  DetectionChoice choice;
  choice.crop = true;
  choice.crop_x = 10;
  choice.crop_y = 5;
  choice.crop_width = 50;
  choice.crop_height = 40;
  choice.out_width = 100;  // scale 2
  choice.out_height = 80;
  choice.flip = true;
  const DetectionResult r = transform.apply(rectangle_sample(), choice);
  // Crop: (10, 5, 30, 25); resize ×2: (20, 10, 60, 50); flip in width 100: (40, 10, 80, 50).
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0].box, (std::array<float, 4>{40, 10, 80, 50}));
  EXPECT_EQ(r.objects[0].class_id, 5);
  EXPECT_EQ(r.source_index, std::vector<int>{0});
  EXPECT_EQ(r.dropped, 0);
  EXPECT_EQ(r.clipped, 0);
  EXPECT_FLOAT_EQ(r.scale_x, 2.0f);
  // Padded to multiples of 32: 128 × 96.
  EXPECT_EQ(r.image.shape(), (Shape{3, 96, 128}));
  EXPECT_EQ(r.mask.shape(), (Shape{96, 128}));
  EXPECT_EQ(r.valid_width, 100);
  EXPECT_EQ(r.valid_height, 80);
  const float* red = r.image.data<float>();
  // Bilinear edges blend two pixels; the midpoint threshold recovers the exact edge.
  EXPECT_EQ(extent(red, 96, 128, 80, 100, [](float v) { return v > 110; }), r.objects[0].box);
  EXPECT_EQ(extent(r.mask.data<uint8_t>(), 96, 128, 96, 128, [](uint8_t v) { return v == 3; }),
            r.objects[0].box);
  // Padding: 0 in the image, 255 (void) in the mask; the rest of the mask is background.
  EXPECT_EQ(red[size_t(90) * 128 + 5], 0.0f);
  EXPECT_EQ(red[size_t(5) * 128 + 110], 0.0f);
  EXPECT_EQ(r.mask.data<uint8_t>()[size_t(90) * 128 + 5], 255);
  EXPECT_EQ(r.mask.data<uint8_t>()[size_t(5) * 128 + 110], 255);
  EXPECT_EQ(extent(r.mask.data<uint8_t>(), 96, 128, 96, 128, [](uint8_t v) { return v == 0; }),
            (std::array<float, 4>{0, 0, 100, 80}));
  // The drawn colours arrive in RGB order.
  EXPECT_EQ(red[size_t(30) * 128 + 60], 200.0f);
  EXPECT_EQ(red[size_t(96 * 128) * 2 + size_t(30) * 128 + 60], 160.0f);
}

TEST(DetectionTransform, RandomChoicesKeepTheBoxOnTheRectangle) {
  DetectionTransform transform(DetectionTransformConfig{.crop_probability = 1.0f,
                                                        .crop_min_fraction = 0.7f,
                                                        .short_sides = {90, 120},
                                                        .max_side = 150,
                                                        .scale_jitter_min = 0.8f,
                                                        .scale_jitter_max = 1.2f,
                                                        .flip = true,
                                                        .pad_width = 200,
                                                        .pad_height = 200});
  int flips = 0, kept = 0;
  for (int64_t index = 0; index < 40; ++index) {
    const DetectionResult r = transform.apply(rectangle_sample(), 11, 0, index);
    const DetectionChoice c = transform.choose(11, 0, index, 80, 60);
    flips += c.flip;
    ASSERT_TRUE(c.crop);
    ASSERT_LE(c.crop_x + c.crop_width, 80);
    ASSERT_GE(c.crop_width, 56);
    EXPECT_EQ(r.image.shape(), (Shape{3, 200, 200}));
    if (r.objects.empty()) {
      EXPECT_EQ(r.dropped, 1);
      continue;
    }
    ++kept;
    // Box edges are at fractional positions now: the rectangle's pixels lie within one pixel.
    const auto box = r.objects[0].box;
    const auto seen = extent(r.image.data<float>(), 200, 200, r.valid_height, r.valid_width,
                             [](float v) { return v > 110; });
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(seen[k], box[k], 1.0) << index << " " << k;
    const auto labelled =
        extent(r.mask.data<uint8_t>(), 200, 200, 200, 200, [](uint8_t v) { return v == 3; });
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(labelled[k], box[k], 1.0) << index << " " << k;
  }
  EXPECT_GT(flips, 8);
  EXPECT_LT(flips, 32);
  EXPECT_GT(kept, 20);
}

TEST(DetectionTransform, CropClipsAndDropsBoxesAndCountsThem) {
  DetectionSample s = rectangle_sample();
  s.objects = {Object{{20, 10, 40, 30}, 0},  // inside the window
               Object{{0, 0, 8, 8}, 1},      // outside: dropped
               Object{{40, 20, 70, 50}, 2},  // 20 of 30 columns inside: clipped
               Object{{5, 10, 15, 20}, 3}};  // 5 of 10 columns inside (50 %)
  DetectionChoice choice{.crop = true,
                         .crop_x = 10,
                         .crop_y = 5,
                         .crop_width = 50,
                         .crop_height = 40,
                         .out_width = 50,
                         .out_height = 40};
  DetectionResult r = DetectionTransform(DetectionTransformConfig{}).apply(s, choice);
  EXPECT_EQ(r.dropped, 1);
  EXPECT_EQ(r.clipped, 2);
  EXPECT_EQ(r.source_index, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(boxes_tensor(r.objects).to_vector<float>(),
            (std::vector<float>{10, 5, 30, 25, 30, 15, 50, 40, 0, 5, 5, 15}));
  // Keeping only boxes with at least 55 % inside drops the last one (50 %) too; the clipped one
  // keeps 500 of 900 (56 %).
  r = DetectionTransform(DetectionTransformConfig{.crop_min_visible = 0.55f}).apply(s, choice);
  EXPECT_EQ(r.dropped, 2);
  EXPECT_EQ(r.clipped, 1);
  EXPECT_EQ(r.source_index, (std::vector<int>{0, 2}));
  EXPECT_EQ(boxes_tensor({}).shape(), (Shape{0, 4}));
}

TEST(DetectionTransform, NormalisesInBgrOrderWithSniperMeans) {
  DetectionTransform transform(
      DetectionTransformConfig{.bgr = true, .mean = {103.939f, 116.779f, 123.68f}});
  const DetectionSample s = rectangle_sample();
  const DetectionResult r = transform.apply(s, transform.choose(1, 0, 0, 80, 60));
  EXPECT_EQ(r.image.shape(), (Shape{3, 60, 80}));
  const float* v = r.image.data<float>();
  const size_t plane = 60 * 80;
  // Background pixel (R, G, B) = (20, 40, 60): channel 0 is blue.
  EXPECT_FLOAT_EQ(v[0], 60 - 103.939f);
  EXPECT_FLOAT_EQ(v[plane], 40 - 116.779f);
  EXPECT_FLOAT_EQ(v[2 * plane], 20 - 123.68f);
  // torchvision's convention: scaled to [0, 1], RGB, per-channel std.
  DetectionTransform tv(DetectionTransformConfig{.value_scale = 1.0f / 255,
                                                 .mean = {0.485f, 0.456f, 0.406f},
                                                 .std = {0.229f, 0.224f, 0.225f}});
  const DetectionResult scaled = tv.apply(s, tv.choose(1, 0, 0, 80, 60));
  const float* t = scaled.image.data<float>();
  EXPECT_NEAR(t[0], (20 / 255.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(t[2 * plane], (60 / 255.0 - 0.406) / 0.225, 1e-5);
}

TEST(DetectionTransform, PhotometricJitterFactors) {
  DetectionSample s;
  s.image = Image(4, 2, 3);
  for (int x = 0; x < 4; ++x) {
    for (int y = 0; y < 2; ++y) {
      s.image.at(y, x, 0) = 100;
      s.image.at(y, x, 1) = static_cast<uint8_t>(x < 2 ? 50 : 150);
      s.image.at(y, x, 2) = 100;
    }
  }
  DetectionTransform transform(DetectionTransformConfig{});
  DetectionChoice choice{.out_width = 4, .out_height = 2};
  choice.brightness = 1.5f;
  DetectionResult r = transform.apply(s, choice);
  const float* v = r.image.data<float>();
  EXPECT_EQ(v[0], 150.0f);
  EXPECT_EQ(v[8 + 0], 75.0f);
  EXPECT_EQ(v[8 + 3], 225.0f);
  // Contrast 0: every value becomes the image's mean grey.
  choice = DetectionChoice{.out_width = 4, .out_height = 2, .contrast = 0.0f};
  const float grey = std::round(0.299f * 100 + 0.587f * 100 + 0.114f * 100);  // mean of greys
  r = transform.apply(s, choice);
  v = r.image.data<float>();
  for (int i = 0; i < 24; ++i) ASSERT_EQ(v[i], grey);
  // Saturation 0: each pixel becomes its own grey.
  choice = DetectionChoice{.out_width = 4, .out_height = 2, .saturation = 0.0f};
  r = transform.apply(s, choice);
  v = r.image.data<float>();
  EXPECT_EQ(v[0], std::round(0.299f * 100 + 0.587f * 50 + 0.114f * 100));
  EXPECT_EQ(v[8], v[0]);
  EXPECT_EQ(v[16 + 3], std::round(0.299f * 100 + 0.587f * 150 + 0.114f * 100));
  // Drawn factors stay in [1 − x, 1 + x].
  DetectionTransform jitter(
      DetectionTransformConfig{.brightness = 0.2f, .contrast = 0.3f, .saturation = 0.4f});
  std::set<float> seen;
  for (int64_t i = 0; i < 50; ++i) {
    const DetectionChoice c = jitter.choose(3, 1, i, 4, 2);
    ASSERT_GE(c.brightness, 0.8f);
    ASSERT_LE(c.brightness, 1.2f);
    ASSERT_GE(c.saturation, 0.6f);
    ASSERT_LE(c.contrast, 1.3f);
    seen.insert(c.brightness);
  }
  EXPECT_GT(seen.size(), 45u);
}

// A 1-pixel-high RGB image of `pixels`, hue-shifted by `shift` on the reference path; the u8
// output in RGB order, pixel by pixel.
std::vector<std::array<int, 3>> hue_shifted(const std::vector<std::array<int, 3>>& pixels,
                                            float shift) {
  const int n = static_cast<int>(pixels.size());
  DetectionSample s;
  s.image = Image(n, 1, 3);
  for (int x = 0; x < n; ++x) {
    for (int c = 0; c < 3; ++c) s.image.at(0, x, c) = static_cast<uint8_t>(pixels[x][c]);
  }
  DetectionTransform transform(DetectionTransformConfig{.u8_images = true});
  DetectionChoice choice{.out_width = n, .out_height = 1, .hue = shift};
  const DetectionResult r = transform.apply(s, choice, /*reference_pixels=*/true);
  const uint8_t* v = r.image.data<uint8_t>();  // 3 × 1 × n
  std::vector<std::array<int, 3>> out(pixels.size());
  for (int x = 0; x < n; ++x) {
    for (int c = 0; c < 3; ++c) out[x][c] = v[c * n + x];
  }
  return out;
}

TEST(DetectionTransform, HueJitterRotatesHueInHsv) {
  using Pixels = std::vector<std::array<int, 3>>;
  // Every colour of a 6-level grid (greys and pure colours included).
  Pixels grid;
  for (int r = 0; r < 256; r += 51) {
    for (int g = 0; g < 256; g += 51) {
      for (int b = 0; b < 256; b += 51) grid.push_back({r, g, b});
    }
  }
  EXPECT_EQ(hue_shifted(grid, 0.0f), grid);
  EXPECT_EQ(hue_shifted(grid, 1.0f), grid);  // a full turn: the u8 round trip is exact
  // Pure colours a third of the circle apart.
  EXPECT_EQ(hue_shifted({{255, 0, 0}, {0, 255, 0}, {0, 0, 255}}, 1.0f / 3),
            (Pixels{{0, 255, 0}, {0, 0, 255}, {255, 0, 0}}));
  EXPECT_EQ(hue_shifted({{255, 0, 0}, {0, 128, 0}}, -1.0f / 3), (Pixels{{0, 0, 255}, {128, 0, 0}}));
  // Greys keep their value for any shift.
  const Pixels greys{{0, 0, 0}, {1, 1, 1}, {128, 128, 128}, {254, 254, 254}, {255, 255, 255}};
  EXPECT_EQ(hue_shifted(greys, 0.37f), greys);
  EXPECT_EQ(hue_shifted(greys, -0.5f), greys);
  // Values from Python's colorsys (rgb_to_hsv, h + shift mod 1, hsv_to_rgb, round(255 x)).
  EXPECT_EQ(hue_shifted({{255, 128, 0}}, 1.0f / 6), (Pixels{{127, 255, 0}}));
  EXPECT_EQ(hue_shifted({{200, 60, 90}}, 0.25f), (Pixels{{160, 200, 60}}));
  EXPECT_EQ(hue_shifted({{10, 200, 120}}, -0.4f), (Pixels{{200, 44, 10}}));
  EXPECT_EQ(hue_shifted({{30, 100, 220}}, 0.1f), (Pixels{{74, 30, 220}}));
  EXPECT_EQ(hue_shifted({{90, 40, 17}}, 0.45f), (Pixels{{17, 89, 90}}));
  EXPECT_EQ(hue_shifted({{250, 251, 3}}, -0.05f), (Pixels{{251, 178, 3}}));
}

// Python's colorsys in double precision: rgb_to_hsv, h + shift mod 1, hsv_to_rgb, × 255 (not
// rounded).
std::array<double, 3> colorsys_hue(const std::array<int, 3>& in, double shift) {
  const double r = in[0] / 255.0, g = in[1] / 255.0, b = in[2] / 255.0;
  const double hi = std::max({r, g, b}), lo = std::min({r, g, b});
  if (hi == lo) return {r * 255.0, g * 255.0, b * 255.0};
  const double s = (hi - lo) / hi, v = hi;
  const double rc = (hi - r) / (hi - lo), gc = (hi - g) / (hi - lo), bc = (hi - b) / (hi - lo);
  double h = r == hi ? bc - gc : g == hi ? 2.0 + rc - bc : 4.0 + gc - rc;
  h = h / 6.0 + shift;
  h -= std::floor(h);
  const int i = static_cast<int>(h * 6.0) % 6;
  const double f = h * 6.0 - std::floor(h * 6.0);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const double rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  return {rgb[i][0] * 255.0, rgb[i][1] * 255.0, rgb[i][2] * 255.0};
}

TEST(DetectionTransform, HueJitterAgreesWithColorsysOnAColourGrid) {
  std::vector<std::array<int, 3>> grid;
  for (int r = 0; r < 256; r += 15) {
    for (int g = 0; g < 256; g += 15) {
      for (int b = 0; b < 256; b += 15) grid.push_back({r, g, b});
    }
  }
  // Rounded to nearest; a value within 1e-3 of a half (the grid makes many exact halves, which
  // float and double put on either side) may go either way. Most values are not halves.
  int ties = 0, values = 0;
  for (float shift : {0.013f, 0.1f, 0.2371f, 0.25f, 0.5f, -0.07f, -0.31f, -0.5f}) {
    const auto shifted = hue_shifted(grid, shift);
    for (size_t i = 0; i < grid.size(); ++i) {
      const auto exact = colorsys_hue(grid[i], shift);
      for (int c = 0; c < 3; ++c) {
        const bool tie = std::abs(exact[c] - std::floor(exact[c]) - 0.5) < 1e-3;
        ties += tie;
        ++values;
        const int nearest = static_cast<int>(std::floor(exact[c] + 0.5));
        const int low = tie ? static_cast<int>(std::floor(exact[c])) : nearest;
        const int high = tie ? static_cast<int>(std::ceil(exact[c])) : nearest;
        ASSERT_TRUE(shifted[i][c] == low || shifted[i][c] == high)
            << "shift " << shift << ", pixel " << grid[i][0] << " " << grid[i][1] << " "
            << grid[i][2] << ", channel " << c << ": " << shifted[i][c] << " vs " << exact[c];
      }
    }
  }
  EXPECT_LT(ties, values / 20);
}

TEST(DetectionTransform, HueShiftIsDrawnFromSeedEpochIndex) {
  const DetectionTransformConfig base{.brightness = 0.2f, .contrast = 0.3f, .saturation = 0.4f};
  DetectionTransformConfig with_hue = base;
  with_hue.hue = 0.1f;
  DetectionTransform plain(base), jitter(with_hue);
  std::set<float> seen;
  int negative = 0;
  for (int64_t i = 0; i < 60; ++i) {
    const DetectionChoice a = jitter.choose(7, 3, i, 40, 30);
    EXPECT_EQ(a, jitter.choose(7, 3, i, 40, 30));
    ASSERT_GE(a.hue, -0.1f);
    ASSERT_LE(a.hue, 0.1f);
    negative += a.hue < 0;
    seen.insert(a.hue);
    // The hue draw uses its own random word: the other factors are those drawn without it.
    DetectionChoice b = plain.choose(7, 3, i, 40, 30);
    EXPECT_EQ(b.hue, 0.0f);
    b.hue = a.hue;
    EXPECT_EQ(a, b);
  }
  EXPECT_GT(seen.size(), 55u);
  EXPECT_GT(negative, 15);
  EXPECT_LT(negative, 45);
  EXPECT_NE(jitter.choose(7, 3, 0, 40, 30).hue, jitter.choose(8, 3, 0, 40, 30).hue);
  EXPECT_NE(jitter.choose(7, 3, 0, 40, 30).hue, jitter.choose(7, 4, 0, 40, 30).hue);
  // Applied through apply(seed, epoch, index): the same sample twice gives the same pixels, and
  // f32 (mean 0, std 1) and u8 outputs agree.
  DetectionSample s = rectangle_sample();
  DetectionTransformConfig hue_only{.hue = 0.5f};
  const DetectionResult first = DetectionTransform(hue_only).apply(s, 11, 0, 5);
  const DetectionResult again = DetectionTransform(hue_only).apply(s, 11, 0, 5);
  hue_only.u8_images = true;
  const DetectionResult u8 = DetectionTransform(hue_only).apply(s, 11, 0, 5);
  const float* f = first.image.data<float>();
  const float* g = again.image.data<float>();
  const uint8_t* u = u8.image.data<uint8_t>();
  int changed = 0;
  for (int64_t i = 0; i < first.image.numel(); ++i) {
    ASSERT_EQ(f[i], g[i]);
    ASSERT_EQ(f[i], static_cast<float>(u[i]));
    changed +=
        f[i] != static_cast<float>(s.image.pixels[size_t(i % (80 * 60)) * 3 + i / (80 * 60)]);
  }
  EXPECT_GT(changed, 0);
  expect_error([] { DetectionTransform(DetectionTransformConfig{.hue = 0.6f}); }, ErrorKind::value,
               "detection transform: hue must be in [0, 0.5], got 0.6");
}

TEST(DetectionTransform, ChoicesArePureFunctionsOfSeedEpochIndex) {
  DetectionTransform transform(DetectionTransformConfig{.crop_probability = 0.5f,
                                                        .crop_min_fraction = 0.5f,
                                                        .short_sides = {300, 400, 500},
                                                        .max_side = 600,
                                                        .flip = true});
  std::set<int> widths;
  int crops = 0, differ = 0;
  for (int64_t i = 0; i < 60; ++i) {
    const DetectionChoice a = transform.choose(5, 2, i, 500, 375);
    EXPECT_EQ(a, transform.choose(5, 2, i, 500, 375));
    differ += a != transform.choose(6, 2, i, 500, 375);
    crops += a.crop;
    widths.insert(a.out_width);
    const int shorter = std::min(a.out_width, a.out_height);
    EXPECT_LE(std::max(a.out_width, a.out_height), 600);
    EXPECT_TRUE(shorter == 300 || shorter == 400 || shorter == 500 ||
                std::max(a.out_width, a.out_height) == 600)
        << a.out_width << "x" << a.out_height;
  }
  EXPECT_GT(differ, 40);
  EXPECT_GT(crops, 15);
  EXPECT_LT(crops, 45);
  EXPECT_GT(widths.size(), 3u);
  // Shorter side 375 → 500 gives 667 wide, over the 600 cap: the cap wins (600 × 450).
  EXPECT_EQ(transform.resized_size(500, 375, 2, 1.0f), (std::pair<int, int>{600, 450}));
  EXPECT_EQ(transform.resized_size(500, 375, 0, 1.0f), (std::pair<int, int>{400, 300}));
  expect_error([] { DetectionTransform(DetectionTransformConfig{.crop_min_fraction = 0}); },
               ErrorKind::value, "detection transform: crop_min_fraction must be in (0, 1], got 0");
}

TEST(DetectionTransform, RejectsMismatchedMasks) {
  DetectionSample s = rectangle_sample();
  s.mask = Image(10, 10, 1);
  expect_error([&] { DetectionTransform(DetectionTransformConfig{}).apply(s, 0, 0, 0); },
               ErrorKind::value,
               "detection transform: the mask (10x10x1) must be 1 channel of the image's size "
               "(80x60)");
}

TEST(ImageResize, BilinearAveragesPairsWhenHalvingAndKeepsConstants) {
  Image image(4, 2, 1);
  for (int x = 0; x < 4; ++x) {
    image.at(0, x, 0) = static_cast<uint8_t>(10 * x);
    image.at(1, x, 0) = static_cast<uint8_t>(10 * x + 100);
  }
  const Image half = resize_bilinear(image, 2, 1);
  // Output pixel 0 samples x = 0.5, y = 0.5: the mean of the 2×2 block.
  EXPECT_EQ(half.pixels, (std::vector<uint8_t>{55, 75}));
  Image flat(3, 3, 3);
  std::fill(flat.pixels.begin(), flat.pixels.end(), uint8_t{77});
  const Image big = resize_bilinear(flat, 7, 5);
  for (uint8_t v : big.pixels) ASSERT_EQ(v, 77);
  // Nearest neighbour never invents values.
  const Image nearest = resize_nearest(image, 8, 4);
  EXPECT_EQ(nearest.at(3, 7, 0), 130);
  EXPECT_EQ(nearest.at(0, 1, 0), 0);
  EXPECT_EQ(nearest.at(0, 2, 0), 10);
  EXPECT_EQ(flip_horizontal(image).at(1, 0, 0), 130);
  expect_error([&] { crop(image, 2, 0, 3, 2); }, ErrorKind::value,
               "crop: window 3x2 at (2, 0) does not fit in the image 4x2");
}

}  // namespace
}  // namespace osprey::data
