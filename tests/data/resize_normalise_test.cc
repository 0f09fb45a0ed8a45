// The fused resize/flip/normalise pass (data/detection/resize_normalise.h) against the
// step-by-step reference pixel path of the detection transform: every crop, enlargement,
// reduction, flip, channel order, normalisation, padding and grey input agrees within 1e-4.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "data/detection/detection_transform.h"
#include "data/detection/resize_normalise.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

// Noise over smooth ramps, so that interpolated values land on every rounding case.
Image noisy_image(int width, int height, int channels, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-40, 40);
  Image image(width, height, channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const int v = (x * 255 / width + y * 97 / height + 60 * c) % 256 + noise(rng);
        image.at(y, x, c) = static_cast<uint8_t>(std::clamp(v, 0, 255));
      }
    }
  }
  return image;
}

float max_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  float worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

TEST(ResizeNormalise, FusedPassMatchesTheReferencePath) {
  struct Case {
    DetectionTransformConfig config;
    int width, height, channels;
  };
  const std::vector<Case> cases{
      // Faster R-CNN on VOC: enlarge 500x375 to shorter side 600, BGR means, pad to 32.
      {{.short_sides = {600},
        .max_side = 1000,
        .flip = true,
        .bgr = true,
        .mean = {103.939f, 116.779f, 123.68f},
        .pad_multiple = 32},
       500,
       375,
       3},
      // torchvision normalisation, reductions by odd factors, crops.
      {{.crop_probability = 1.0f,
        .crop_min_fraction = 0.3f,
        .short_sides = {37, 50, 211},
        .flip = true,
        .value_scale = 1.0f / 255,
        .mean = {0.485f, 0.456f, 0.406f},
        .std = {0.229f, 0.224f, 0.225f},
        .pad_width = 260,
        .pad_height = 90,
        .pad_value = -3.0f},
       333,
       251,
       3},
      // Fixed size with jitter, grey input, a single mean and std.
      {{.fixed_width = 64,
        .fixed_height = 17,
        .scale_jitter_min = 0.5f,
        .scale_jitter_max = 2.0f,
        .flip = true,
        .mean = {100.0f},
        .std = {57.0f},
        .pad_multiple = 8},
       41,
       90,
       1},
      // No resize at all (only flip and normalise), and a one-pixel-wide image.
      {{.flip = true, .mean = {10.0f}}, 29, 13, 3},
      {{.short_sides = {7}, .flip = true}, 1, 5, 3},
  };
  int compared = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    DetectionTransform transform(c.config);
    DetectionSample sample{noisy_image(c.width, c.height, c.channels, static_cast<uint32_t>(k)),
                           {Object{{1, 1, 3, 4}, 2}},
                           {}};
    for (int64_t index = 0; index < 12; ++index) {
      const DetectionChoice choice = transform.choose(7, 1, index, c.width, c.height);
      const DetectionResult fused = transform.apply(sample, choice);
      const DetectionResult reference = transform.apply(sample, choice, true);
      EXPECT_LE(max_difference(fused.image, reference.image), 1e-4f)
          << "case " << k << " index " << index << " flip " << choice.flip << " crop "
          << choice.crop << " to " << choice.out_width << "x" << choice.out_height;
      EXPECT_EQ(fused.objects.size(), reference.objects.size());
      ++compared;
    }
  }
  EXPECT_EQ(compared, 60);
}

template <typename Fn>
void expect_error_containing(Fn&& fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing: " << part;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::value);
    EXPECT_NE(e.message().find(part), std::string::npos) << e.message();
  }
}

TEST(ResizeNormalise, RejectsWindowsOutsideTheImageAndSmallCanvases) {
  const Image image = noisy_image(10, 8, 3, 1);
  std::vector<float> out(3 * 20 * 20);
  expect_error_containing(
      [&] { resize_flip_normalise(image, 5, 0, 6, 8, 12, 10, false, {}, 20, 20, out.data()); },
      "resize_flip_normalise: window 6x8 at (5, 0) of a 10x8x3 image");
  expect_error_containing(
      [&] { resize_flip_normalise(image, 0, 0, 10, 8, 21, 10, false, {}, 20, 20, out.data()); },
      "fit the canvas 20x20");
}

}  // namespace
}  // namespace osprey::data
