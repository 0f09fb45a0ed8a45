// The two variants of the fused resize pass (data/detection/resize_normalise.h) against each other
// and against the step-by-step reference (resize_bilinear of the crop, flip_horizontal, the
// normalisation expression): bit-identical on random images of odd sizes, enlargements,
// reductions (also beyond the avx512 permute window, where it gathers), flips, windows, channel
// orders and padding. The avx512 half skips on CPUs without AVX-512.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "data/detection/resize_normalise.h"
#include "data/image/resize.h"
#include "framework/core/error.h"

namespace osprey::data {
namespace {

Image random_image(int width, int height, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  Image image(width, height, 3);
  for (uint8_t& v : image.pixels) v = static_cast<uint8_t>(byte(rng));
  return image;
}

struct Call {
  int width, height;                  // image
  int x0, y0, w, h;                   // window
  int resized_width, resized_height;  // resize
  bool flip;
  int out_height, out_width;  // canvas
};

std::vector<Call> calls() {
  std::vector<Call> list{
      {500, 375, 0, 0, 500, 375, 800, 600, false, 608, 800},  // VOC at shorter side 600
      {500, 375, 0, 0, 500, 375, 800, 600, true, 608, 832},
      {333, 251, 17, 9, 211, 180, 37, 31, true, 40, 64},      // reduction beyond the window
      {333, 251, 0, 0, 333, 251, 190, 140, false, 140, 190},  // mild reduction (1.75x)
      {97, 61, 3, 5, 91, 50, 301, 177, true, 180, 305},       // odd sizes, enlargement
      {1, 5, 0, 0, 1, 5, 7, 9, true, 9, 8},                   // one pixel wide
      {41, 90, 0, 0, 41, 90, 41, 90, true, 96, 48},           // same size: flip only
      {64, 64, 0, 0, 64, 64, 17, 1000, false, 1000, 17},      // one axis each way
  };
  // Random windows and sizes, both ways.
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> size(1, 300);
  for (int i = 0; i < 24; ++i) {
    Call c{};
    c.width = size(rng);
    c.height = size(rng);
    c.x0 = std::uniform_int_distribution<int>(0, c.width - 1)(rng);
    c.y0 = std::uniform_int_distribution<int>(0, c.height - 1)(rng);
    c.w = std::uniform_int_distribution<int>(1, c.width - c.x0)(rng);
    c.h = std::uniform_int_distribution<int>(1, c.height - c.y0)(rng);
    c.resized_width = size(rng);
    c.resized_height = size(rng);
    c.flip = i % 2 == 1;
    c.out_height = c.resized_height + i % 3;
    c.out_width = c.resized_width + i % 5;
    list.push_back(c);
  }
  return list;
}

// The reference pixel path, 8-bit RGB planes with padding 0.
std::vector<uint8_t> reference_u8(const Image& image, const Call& c) {
  Image resized =
      resize_bilinear(crop(image, c.x0, c.y0, c.w, c.h), c.resized_width, c.resized_height);
  if (c.flip) resized = flip_horizontal(resized);
  std::vector<uint8_t> out(size_t(3) * c.out_height * c.out_width, 0);
  for (int k = 0; k < 3; ++k) {
    for (int y = 0; y < c.resized_height; ++y) {
      for (int x = 0; x < c.resized_width; ++x) {
        out[(size_t(k) * c.out_height + y) * c.out_width + x] = resized.at(y, x, k);
      }
    }
  }
  return out;
}

TEST(ResizeVariants, ScalarAndAvx512AreBitIdenticalToTheReference) {
  const bool avx512 = resize_avx512_available();
  // BGR order with torchvision-like statistics: the f32 value of each u8 is the expression below.
  ChannelNormalise n;
  n.value_scale = 1.0f / 255;
  for (int k = 0; k < 3; ++k) {
    n.source_channel[k] = 2 - k;
    n.mean[k] = 0.4f + 0.03f * k;
    n.inv_std[k] = 1.0f / (0.22f + 0.01f * k);
  }
  n.pad_value = -7.5f;
  std::mt19937 rng(11);
  int checked = 0;
  for (const Call& c : calls()) {
    SCOPED_TRACE(testing::Message()
                 << c.width << "x" << c.height << " window " << c.w << "x" << c.h << "@" << c.x0
                 << "," << c.y0 << " -> " << c.resized_width << "x" << c.resized_height << " flip "
                 << c.flip << " canvas " << c.out_width << "x" << c.out_height);
    const Image image = random_image(c.width, c.height, rng);
    const std::vector<uint8_t> want = reference_u8(image, c);
    std::vector<float> want_f32(want.size());
    const size_t plane = size_t(c.out_height) * c.out_width;
    for (int k = 0; k < 3; ++k) {
      for (int y = 0; y < c.out_height; ++y) {
        for (int x = 0; x < c.out_width; ++x) {
          const size_t i = k * plane + size_t(y) * c.out_width + x;
          const uint8_t v = want[(2 - k) * plane + size_t(y) * c.out_width + x];  // BGR
          want_f32[i] = y < c.resized_height && x < c.resized_width
                            ? (static_cast<float>(v) * n.value_scale - n.mean[k]) * n.inv_std[k]
                            : n.pad_value;
        }
      }
    }
    std::vector<ResizePath> paths{ResizePath::scalar, ResizePath::best};
    if (avx512) paths.push_back(ResizePath::avx512);
    for (ResizePath path : paths) {
      SCOPED_TRACE(testing::Message() << "path " << static_cast<int>(path));
      // Poisoned canvases: every value must be written.
      std::vector<uint8_t> got(want.size(), 0xAB);
      resize_flip_u8(image, c.x0, c.y0, c.w, c.h, c.resized_width, c.resized_height, c.flip,
                     c.out_height, c.out_width, got.data(), path);
      ASSERT_EQ(got, want);
      // A canvas at a 64-byte boundary (the avx512 variant streams whole vectors there) and
      // one 4 bytes off it.
      std::vector<float> storage(want.size() + 32);
      float* aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) / 4;
      for (float* canvas : {aligned, aligned + 1}) {
        std::fill(storage.begin(), storage.end(), std::nanf(""));
        resize_flip_normalise(image, c.x0, c.y0, c.w, c.h, c.resized_width, c.resized_height,
                              c.flip, n, c.out_height, c.out_width, canvas, path);
        for (size_t i = 0; i < want_f32.size(); ++i) {
#ifdef __FMA__
          // A -march build with FMA lets GCC fuse the scalar normalisation expression (here and
          // in the scalar variant; never in the avx512 one): equal within one rounding.
          ASSERT_NEAR(canvas[i], want_f32[i], 1e-6f * std::abs(want_f32[i]) + 1e-7f)
              << "value " << i;
#else
          ASSERT_EQ(std::memcmp(&canvas[i], &want_f32[i], sizeof(float)), 0)
              << "value " << i << ": " << canvas[i] << " against " << want_f32[i];
#endif
        }
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 32 * (avx512 ? 3 : 2));
}

// resize.h's bound: the fixed-point result is the exact bilinear value (real weights, double
// arithmetic) rounded to nearest, except within 0.025 of a half-integer, where it may be 1 off.
TEST(ResizeVariants, FixedPointIsExactBilinearRoundedUpToTheStatedBound) {
  std::mt19937 rng(3);
  const std::vector<std::array<int, 4>> sizes{
      {500, 375, 800, 600}, {333, 251, 190, 140}, {97, 61, 301, 177}, {64, 64, 17, 1000}};
  int64_t values = 0, off_by_one = 0;
  for (const auto& [w, h, ow, oh] : sizes) {
    const Image image = random_image(w, h, rng);
    const Image out = resize_bilinear(image, ow, oh);
    auto taps = [](int in, int out, int i, int& lo, int& hi, double& f) {
      const double s = std::max(0.0, (i + 0.5) * in / out - 0.5);
      lo = std::min(static_cast<int>(s), in - 1);
      hi = std::min(lo + 1, in - 1);
      f = s - lo;
    };
    for (int y = 0; y < oh; ++y) {
      int y0, y1;
      double fy;
      taps(h, oh, y, y0, y1, fy);
      for (int x = 0; x < ow; ++x) {
        int x0, x1;
        double fx;
        taps(w, ow, x, x0, x1, fx);
        for (int c = 0; c < 3; ++c) {
          const double top = image.at(y0, x0, c) * (1 - fx) + image.at(y0, x1, c) * fx;
          const double bottom = image.at(y1, x0, c) * (1 - fx) + image.at(y1, x1, c) * fx;
          const double exact = top * (1 - fy) + bottom * fy;
          const int got = out.at(y, x, c);
          ++values;
          if (got == static_cast<int>(std::floor(exact + 0.5))) continue;
          ++off_by_one;
          ASSERT_LT(std::abs(exact - std::floor(exact) - 0.5), 0.025)
              << "at " << x << "," << y << "," << c << " of " << w << "x" << h << " -> " << ow
              << "x" << oh << ": " << got << " for exact " << exact;
          ASSERT_LE(std::abs(got - exact), 0.525);
        }
      }
    }
  }
  // Random bytes put about 5% of blends that near a half-integer: most of those still round
  // right.
  EXPECT_LT(off_by_one, values / 100) << off_by_one << " of " << values;
}

TEST(ResizeVariants, AskingForAvx512WithoutItIsAnError) {
  if (resize_avx512_available()) GTEST_SKIP() << "this CPU has AVX-512";
  const Image image(4, 4, 3);
  std::vector<uint8_t> out(3 * 4 * 4);
  try {
    resize_flip_u8(image, 0, 0, 4, 4, 4, 4, false, 4, 4, out.data(), ResizePath::avx512);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("needs AVX-512"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace osprey::data
