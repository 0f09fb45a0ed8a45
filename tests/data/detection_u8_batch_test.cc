// The u8_images mode of the detection transform and loader (issue 5): 8-bit RGB batches padded
// with 0, which normalise_batch turns into exactly the f32 mode's batch (within 1e-4) — for crops,
// flips, multi-scale resizes, padding (zero and non-zero pad_value), BGR and RGB, grey images and
// the photometric (reference) path.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "data/detection/detection_loader.h"
#include "data/detection/normalise_batch.h"
#include "tests/data/data_test_support.h"

namespace osprey::data {
namespace {

// Like testing::expect_error, for messages whose tail (shapes) need not be spelled out.
template <typename Fn>
void expect_error_starting(Fn&& fn, ErrorKind kind, const std::string& start) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected: " << start;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_EQ(e.message().substr(0, start.size()), start);
  }
}

// Sample i: a (41 + 7i) × (30 + 5i) image of pseudo-random pixels (grey for i % 4 == 3) with two
// boxes.
class NoiseSource : public DetectionSource {
 public:
  explicit NoiseSource(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  DetectionSample sample(int64_t i) const override {
    const int w = 41 + 7 * static_cast<int>(i), h = 30 + 5 * static_cast<int>(i);
    DetectionSample s;
    s.image = Image(w, h, i % 4 == 3 ? 1 : 3);
    uint32_t state = 12345u + static_cast<uint32_t>(i);
    for (uint8_t& v : s.image.pixels) {
      state = state * 1664525u + 1013904223u;
      v = static_cast<uint8_t>(state >> 24);
    }
    s.objects.push_back(Object{{2, 3, 20, 25}, 1});
    s.objects.push_back(Object{{10, 5, float(w - 1), float(h - 2)}, 2});
    return s;
  }

 private:
  int64_t n_;
};

DetectionTransformConfig sniper_like() {
  return DetectionTransformConfig{.crop_probability = 0.5f,
                                  .crop_min_fraction = 0.6f,
                                  .short_sides = {24, 40},
                                  .max_side = 64,
                                  .flip = true,
                                  .bgr = true,
                                  .mean = {103.939f, 116.779f, 123.68f},
                                  .pad_multiple = 16};
}

DetectionTransformConfig torchvision_like() {
  return DetectionTransformConfig{.crop_probability = 0.7f,
                                  .crop_min_fraction = 0.5f,
                                  .fixed_width = 37,
                                  .fixed_height = 29,
                                  .scale_jitter_min = 0.8f,
                                  .scale_jitter_max = 1.2f,
                                  .flip = true,
                                  .value_scale = 1.0f / 255,
                                  .mean = {0.485f, 0.456f, 0.406f},
                                  .std = {0.229f, 0.224f, 0.225f},
                                  .pad_width = 40,
                                  .pad_multiple = 8,
                                  .pad_value = -1.5f};
}

DetectionTransformConfig with_photometric() {
  DetectionTransformConfig c = torchvision_like();
  c.brightness = 0.3f;
  c.contrast = 0.3f;
  c.saturation = 0.3f;
  return c;
}

void expect_close(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  ASSERT_EQ(actual.dtype(), DType::f32);
  const auto a = actual.to_vector<float>();
  const auto e = expected.to_vector<float>();
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  EXPECT_LE(worst, 1e-4f);
}

void expect_u8_matches_f32(const DetectionTransformConfig& f32_config) {
  DetectionTransformConfig u8_config = f32_config;
  u8_config.u8_images = true;
  auto source = std::make_shared<NoiseSource>(9);
  const LoaderConfig loader_config{.batch_size = 4, .workers = 0, .seed = 5};
  DetectionLoader f32_loader(source, DetectionTransform(f32_config), loader_config);
  DetectionLoader u8_loader(source, DetectionTransform(u8_config), loader_config);
  int batches = 0;
  for (int epoch = 0; epoch < 2; ++epoch) {
    while (auto expected = f32_loader.next()) {
      auto actual = u8_loader.next();
      ASSERT_TRUE(actual.has_value());
      EXPECT_EQ(actual->images.dtype(), DType::u8);
      EXPECT_EQ(actual->images.shape(), expected->images.shape());
      EXPECT_EQ(actual->boxes.to_vector<float>(), expected->boxes.to_vector<float>());
      EXPECT_EQ(actual->image_sizes.to_vector<int64_t>(),
                expected->image_sizes.to_vector<int64_t>());
      expect_close(normalise_batch(actual->images, f32_config, actual->image_sizes),
                   expected->images);
      ++batches;
    }
    EXPECT_FALSE(u8_loader.next().has_value());
  }
  EXPECT_EQ(batches, 6);
}

TEST(DetectionU8Batch, SniperLikeBgrMatchesTheF32Loader) {
  expect_u8_matches_f32(sniper_like());
}

TEST(DetectionU8Batch, TorchvisionLikeRgbWithPadValueMatchesTheF32Loader) {
  expect_u8_matches_f32(torchvision_like());
}

TEST(DetectionU8Batch, PhotometricJitterMatchesTheF32Loader) {
  expect_u8_matches_f32(with_photometric());
}

TEST(DetectionU8Batch, ApplyGivesRgbU8PaddedWithZeroOnBothPixelPaths) {
  DetectionTransformConfig config = sniper_like();
  config.u8_images = true;
  const DetectionTransform transform(config);
  const NoiseSource source(3);
  const DetectionSample sample = source.sample(2);
  DetectionChoice choice;
  choice.crop = true;
  choice.crop_x = 5;
  choice.crop_y = 4;
  choice.crop_width = 40;
  choice.crop_height = 30;
  choice.out_width = 27;
  choice.out_height = 21;
  choice.flip = true;
  const DetectionResult fused = transform.apply(sample, choice);
  const DetectionResult reference = transform.apply(sample, choice, /*reference_pixels=*/true);
  ASSERT_EQ(fused.image.dtype(), DType::u8);
  EXPECT_EQ(fused.image.shape(), (Shape{3, 32, 32}));
  EXPECT_EQ(fused.image.to_vector<uint8_t>(), reference.image.to_vector<uint8_t>());
  // RGB order although the config says bgr, and 0 past the valid 27×21 area.
  const uint8_t* p = fused.image.data<uint8_t>();
  EXPECT_EQ(p[(0 * 32 + 21) * 32 + 3], 0);
  EXPECT_EQ(p[(2 * 32 + 5) * 32 + 27], 0);
  // The values are the f32 mode's without normalisation (value_scale 1, no mean, RGB).
  DetectionTransformConfig plain = config;
  plain.u8_images = false;
  plain.bgr = false;
  plain.mean = {};
  const DetectionResult f32 = DetectionTransform(plain).apply(sample, choice);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(float(p[(c * 32 + 7) * 32 + 11]), f32.image.data<float>()[(c * 32 + 7) * 32 + 11]);
  }
  // collate_detection keeps u8 samples u8.
  const DetectionBatch batch = collate_detection({fused, reference}, {2, 2}, 16, 0.0f);
  EXPECT_EQ(batch.images.dtype(), DType::u8);
  EXPECT_EQ(batch.images.select(0, 1).contiguous().to_vector<uint8_t>(),
            fused.image.to_vector<uint8_t>());
}

TEST(DetectionU8Batch, NormaliseBatchWithoutSizesNormalisesThePaddingAsZero) {
  const Tensor x = Tensor::from_vector<uint8_t>({0, 10, 255}, {1, 3, 1, 1});
  const Tensor rgb = normalise_batch(x, {1.0f, 2.0f, 3.0f}, {2.0f}, false);
  EXPECT_EQ(rgb.to_vector<float>(), (std::vector<float>{-0.5f, 4.0f, 126.0f}));
  const Tensor bgr = normalise_batch(x, {1.0f, 2.0f, 3.0f}, {2.0f}, true);
  EXPECT_EQ(bgr.to_vector<float>(), (std::vector<float>{127.0f, 4.0f, -1.5f}));
}

TEST(DetectionU8Batch, NormaliseBatchRejectsBadInput) {
  const Tensor f32 = Tensor::from_vector<float>({0, 0, 0}, {1, 3, 1, 1});
  expect_error_starting([&] { normalise_batch(f32, {}, {}, false); }, ErrorKind::dtype,
                        "normalise_batch: images must be u8, got f32");
  const Tensor u8 = Tensor::from_vector<uint8_t>({0, 0, 0}, {3, 1, 1});
  expect_error_starting([&] { normalise_batch(u8, {}, {}, false); }, ErrorKind::shape,
                        "normalise_batch: images must be B×3×H×W");
  const Tensor ok = Tensor::from_vector<uint8_t>({0, 0, 0}, {1, 3, 1, 1});
  expect_error_starting(
      [&] {
        normalise_batch(ok, {1, 2}, {}, false);
      },
      ErrorKind::value, "normalise_batch: mean needs 0, 1 or 3 values, got 2");
  expect_error_starting(
      [&] {
        normalise_batch(ok, {}, {}, false, 1.0f,
                        Tensor::from_vector<int64_t>({1, 1, 1, 1}, {2, 2}));
      },
      ErrorKind::shape, "normalise_batch: image_sizes must be 1×2");
}

}  // namespace
}  // namespace osprey::data
