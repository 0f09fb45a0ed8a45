#include "data/detection/detection_transform.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>

#include "data/detection/resize_normalise.h"
#include "data/image/resize.h"
#include "data/sample_random.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace {

// A float uniform in [0, 1) from 32 random bits.
double unit(uint32_t bits) {
  return bits * (1.0 / 4294967296.0);
}

uint8_t clamp_u8(float v) {
  return static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f));
}

float grey_of(const uint8_t* p) {
  return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
}

// 1 / c for the chroma c = max − min of a u8 pixel (entry 0 unused: greys are skipped).
struct Reciprocals {
  float of[256];
  Reciprocals() {
    of[0] = 0.0f;
    for (int c = 1; c < 256; ++c) of[c] = 1.0f / static_cast<float>(c);
  }
};

// One pixel's hue turned by `shift` sectors (6 = the full circle) in the hexcone (see the header):
// max, min and chroma stay, the middle channel slides.
void rotate_hue(uint8_t* pixel, float shift, const Reciprocals& reciprocal) {
  const int r = pixel[0], g = pixel[1], b = pixel[2];
  const int hi = std::max({r, g, b}), lo = std::min({r, g, b});
  const int chroma = hi - lo;
  if (chroma == 0) return;  // grey: no hue to turn
  const float inv = reciprocal.of[chroma];
  float h;  // in [−1, 5]
  if (hi == r) {
    h = static_cast<float>(g - b) * inv;
  } else if (hi == g) {
    h = static_cast<float>(b - r) * inv + 2.0f;
  } else {
    h = static_cast<float>(r - g) * inv + 4.0f;
  }
  h += shift;
  h -= 6.0f * std::floor(h * (1.0f / 6.0f));  // may round up to 6: sector 0 with f = 0, the same
  const float sector = std::floor(h);
  const float f = h - sector;
  // The sectors as picks from (max, rising, min, falling).
  static constexpr int kPick[6][3] = {{0, 1, 2}, {3, 0, 2}, {2, 0, 1},
                                      {2, 3, 0}, {1, 2, 0}, {0, 2, 3}};
  const float values[4] = {static_cast<float>(hi), lo + chroma * f, static_cast<float>(lo),
                           hi - chroma * f};
  const int* pick = kPick[static_cast<int>(sector) % 6];
  for (int c = 0; c < 3; ++c) pixel[c] = clamp_u8(values[pick[c]]);
}

// Brightness, contrast, saturation and hue in that order, clamped after each (see the header).
void photometric(Image& image, float brightness, float contrast, float saturation, float hue) {
  const size_t n = size_t(image.width) * image.height;
  uint8_t* p = image.pixels.data();
  if (brightness != 1.0f) {
    for (size_t i = 0; i < 3 * n; ++i) p[i] = clamp_u8(p[i] * brightness);
  }
  if (contrast != 1.0f) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += grey_of(p + 3 * i);
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    for (size_t i = 0; i < 3 * n; ++i) p[i] = clamp_u8(mean + (p[i] - mean) * contrast);
  }
  if (saturation != 1.0f) {
    for (size_t i = 0; i < n; ++i) {
      uint8_t* q = p + 3 * i;
      const float grey = grey_of(q);
      for (int c = 0; c < 3; ++c) q[c] = clamp_u8(grey + (q[c] - grey) * saturation);
    }
  }
  if (hue != 0.0f) {
    static const Reciprocals reciprocal;
    for (size_t i = 0; i < n; ++i) rotate_hue(p + 3 * i, 6.0f * hue, reciprocal);
  }
}

bool has_photometric(const DetectionChoice& choice) {
  return choice.brightness != 1.0f || choice.contrast != 1.0f || choice.saturation != 1.0f ||
         choice.hue != 0.0f;
}

Image to_rgb(const Image& image) {
  if (image.channels == 3) return image;
  Image rgb(image.width, image.height, 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    std::memset(rgb.pixels.data() + 3 * i, image.pixels[i], 3);
  }
  return rgb;
}

// Row y of `plane` (out_w wide): `write(dst, width)` fills the image's columns; the rest is `pad`.
template <typename T, typename Write>
void write_plane(int height, int width, int out_h, int out_w, T pad, T* plane, const Write& write) {
  for (int y = 0; y < out_h; ++y) {
    T* dst = plane + size_t(y) * out_w;
    if (y < height) {
      write(y, dst);
      std::fill(dst + width, dst + out_w, pad);
    } else {
      std::fill(dst, dst + out_w, pad);
    }
  }
}

void write_mask(const Image& mask, bool flip, int out_h, int out_w, uint8_t* out) {
  write_plane(mask.height, mask.width, out_h, out_w, uint8_t{255}, out, [&](int y, uint8_t* dst) {
    const uint8_t* row = mask.row(y);
    if (flip) {
      std::reverse_copy(row, row + mask.width, dst);
    } else {
      std::copy(row, row + mask.width, dst);
    }
  });
}

int round_up(int v, int multiple) {
  return multiple > 1 ? (v + multiple - 1) / multiple * multiple : v;
}

}  // namespace

DetectionTransform::DetectionTransform(DetectionTransformConfig config)
    : config_(std::move(config)) {
  const auto& c = config_;
  OSPREY_CHECK(c.crop_probability >= 0 && c.crop_probability <= 1,
               "detection transform: crop_probability must be in [0, 1], got {}",
               c.crop_probability);
  OSPREY_CHECK(c.crop_min_fraction > 0 && c.crop_min_fraction <= 1,
               "detection transform: crop_min_fraction must be in (0, 1], got {}",
               c.crop_min_fraction);
  OSPREY_CHECK(c.crop_min_visible >= 0 && c.crop_min_visible <= 1,
               "detection transform: crop_min_visible must be in [0, 1], got {}",
               c.crop_min_visible);
  for (int side : c.short_sides) {
    OSPREY_CHECK(side > 0, "detection transform: short_sides entries must be positive, got {}",
                 side);
  }
  OSPREY_CHECK(c.max_side >= 0 && c.fixed_width >= 0 && c.fixed_height >= 0 &&
                   (c.fixed_width > 0) == (c.fixed_height > 0),
               "detection transform: max_side ({}) must not be negative and fixed_width ({}) / "
               "fixed_height ({}) must both be positive or both 0",
               c.max_side, c.fixed_width, c.fixed_height);
  OSPREY_CHECK(c.fixed_width == 0 || c.short_sides.empty(),
               "detection transform: give either short_sides or a fixed size, not both");
  OSPREY_CHECK(c.scale_jitter_min > 0 && c.scale_jitter_min <= c.scale_jitter_max,
               "detection transform: scale jitter range [{}, {}] must be positive and ordered",
               c.scale_jitter_min, c.scale_jitter_max);
  for (float x : {c.brightness, c.contrast, c.saturation}) {
    OSPREY_CHECK(x >= 0 && x < 1,
                 "detection transform: brightness/contrast/saturation must be in [0, 1), got {}",
                 x);
  }
  OSPREY_CHECK(c.hue >= 0 && c.hue <= 0.5f, "detection transform: hue must be in [0, 0.5], got {}",
               c.hue);
  for (float s : c.std)
    OSPREY_CHECK(s > 0, "detection transform: std entries must be positive, got {}", s);
  for (size_t n : {c.mean.size(), c.std.size()}) {
    OSPREY_CHECK(n <= 1 || n == 3, "detection transform: mean/std need 0, 1 or 3 values, got {}",
                 n);
  }
  OSPREY_CHECK(c.pad_width >= 0 && c.pad_height >= 0 && c.pad_multiple >= 0,
               "detection transform: pad sizes must not be negative ({}x{}, multiple {})",
               c.pad_width, c.pad_height, c.pad_multiple);
}

float DetectionTransform::mean_of(int channel) const {
  if (config_.mean.empty()) return 0.0f;
  return config_.mean.size() == 1 ? config_.mean[0] : config_.mean[static_cast<size_t>(channel)];
}

float DetectionTransform::std_of(int channel) const {
  if (config_.std.empty()) return 1.0f;
  return config_.std.size() == 1 ? config_.std[0] : config_.std[static_cast<size_t>(channel)];
}

std::pair<int, int> DetectionTransform::resized_size(int width, int height, int side_index,
                                                     float jitter) const {
  const auto& c = config_;
  if (c.fixed_width > 0) {
    return {std::max(1, static_cast<int>(std::lround(c.fixed_width * jitter))),
            std::max(1, static_cast<int>(std::lround(c.fixed_height * jitter)))};
  }
  double scale = 1.0;
  if (side_index >= 0)
    scale = static_cast<double>(c.short_sides[side_index]) / std::min(width, height);
  if (c.max_side > 0)
    scale = std::min(scale, static_cast<double>(c.max_side) / std::max(width, height));
  scale *= jitter;
  return {std::max(1, static_cast<int>(std::lround(width * scale))),
          std::max(1, static_cast<int>(std::lround(height * scale)))};
}

DetectionChoice DetectionTransform::choose(uint64_t seed, int64_t epoch, int64_t index, int width,
                                           int height) const {
  OSPREY_CHECK(width > 0 && height > 0, "detection transform: image size {}x{} must be positive",
               width, height);
  const auto& c = config_;
  const auto crop = sample_random_block(seed, RandomStream::detection_crop, epoch, index);
  const auto geometry = sample_random_block(seed, RandomStream::detection_geometry, epoch, index);
  const auto colour = sample_random_block(seed, RandomStream::detection_photometric, epoch, index);
  DetectionChoice choice;
  int w = width, h = height;
  if (c.crop_probability > 0 && unit(geometry.v[0]) < c.crop_probability) {
    auto side = [&](int full, uint32_t bits) {
      const double fraction = c.crop_min_fraction + (1.0 - c.crop_min_fraction) * unit(bits);
      return std::clamp(static_cast<int>(std::lround(full * fraction)), 1, full);
    };
    choice.crop = true;
    choice.crop_width = w = side(width, crop.v[0]);
    choice.crop_height = h = side(height, crop.v[1]);
    choice.crop_x = static_cast<int>(uniform_below(crop.v[2], uint64_t(width - w + 1)));
    choice.crop_y = static_cast<int>(uniform_below(crop.v[3], uint64_t(height - h + 1)));
  }
  const int side_index = c.short_sides.empty()
                             ? -1
                             : static_cast<int>(uniform_below(geometry.v[1], c.short_sides.size()));
  const float jitter = static_cast<float>(
      c.scale_jitter_min + (c.scale_jitter_max - c.scale_jitter_min) * unit(geometry.v[2]));
  std::tie(choice.out_width, choice.out_height) = resized_size(w, h, side_index, jitter);
  choice.flip = c.flip && (geometry.v[3] >> 31) != 0;
  auto factor = [](float range, uint32_t bits) {
    return static_cast<float>(1.0 + range * (2.0 * unit(bits) - 1.0));
  };
  choice.brightness = factor(c.brightness, colour.v[0]);
  choice.contrast = factor(c.contrast, colour.v[1]);
  choice.saturation = factor(c.saturation, colour.v[2]);
  choice.hue = static_cast<float>(c.hue * (2.0 * unit(colour.v[3]) - 1.0));
  return choice;
}

DetectionResult DetectionTransform::apply(const DetectionSample& sample, uint64_t seed,
                                          int64_t epoch, int64_t index) const {
  return apply(sample, choose(seed, epoch, index, sample.image.width, sample.image.height));
}

void DetectionTransform::check(const DetectionSample& sample, const DetectionChoice& choice) const {
  const Image& input = sample.image;
  OSPREY_CHECK(input.width > 0 && input.height > 0 && (input.channels == 1 || input.channels == 3),
               "detection transform: expected a grey or RGB image, got {}x{}x{}", input.width,
               input.height, input.channels);
  const bool has_mask = !sample.mask.empty();
  OSPREY_CHECK(!has_mask || (sample.mask.channels == 1 && sample.mask.width == input.width &&
                             sample.mask.height == input.height),
               "detection transform: the mask ({}x{}x{}) must be 1 channel of the image's size "
               "({}x{})",
               sample.mask.width, sample.mask.height, sample.mask.channels, input.width,
               input.height);
  OSPREY_CHECK(choice.out_width > 0 && choice.out_height > 0,
               "detection transform: output size {}x{} must be positive", choice.out_width,
               choice.out_height);
}

std::pair<int, int> DetectionTransform::canvas_size(const DetectionChoice& choice) const {
  return {round_up(std::max(choice.out_height, config_.pad_height), config_.pad_multiple),
          round_up(std::max(choice.out_width, config_.pad_width), config_.pad_multiple)};
}

DetectionResult DetectionTransform::apply(const DetectionSample& sample,
                                          const DetectionChoice& choice,
                                          bool reference_pixels) const {
  DetectionResult result = apply_boxes(sample, choice);
  const auto [out_h, out_w] = canvas_size(choice);
  result.image = Tensor::empty({3, out_h, out_w}, config_.u8_images ? DType::u8 : DType::f32);
  if (!sample.mask.empty()) result.mask = Tensor::empty({out_h, out_w}, DType::u8);
  uint8_t* mask_out = result.mask.defined() ? result.mask.data<uint8_t>() : nullptr;
  if (config_.u8_images) {
    write_pixels_u8(sample, choice, out_h, out_w, result.image.data<uint8_t>(), mask_out,
                    reference_pixels);
  } else {
    write_pixels(sample, choice, out_h, out_w, result.image.data<float>(), mask_out,
                 reference_pixels);
  }
  return result;
}

DetectionResult DetectionTransform::apply_boxes(const DetectionSample& sample,
                                                const DetectionChoice& choice) const {
  check(sample, choice);
  const Image& input = sample.image;
  DetectionResult result;
  // 1. Crop: the boxes here, the pixels in write_pixels.
  float x0 = 0, y0 = 0, w = static_cast<float>(input.width), h = static_cast<float>(input.height);
  if (choice.crop) {
    x0 = static_cast<float>(choice.crop_x);
    y0 = static_cast<float>(choice.crop_y);
    w = static_cast<float>(choice.crop_width);
    h = static_cast<float>(choice.crop_height);
  }
  const float sx = static_cast<float>(choice.out_width) / w;
  const float sy = static_cast<float>(choice.out_height) / h;
  for (size_t i = 0; i < sample.objects.size(); ++i) {
    Object object = sample.objects[i];
    auto& b = object.box;
    if (choice.crop) {
      const std::array<float, 4> cut{std::clamp(b[0], x0, x0 + w), std::clamp(b[1], y0, y0 + h),
                                     std::clamp(b[2], x0, x0 + w), std::clamp(b[3], y0, y0 + h)};
      const float area = (b[2] - b[0]) * (b[3] - b[1]);
      const float inside = (cut[2] - cut[0]) * (cut[3] - cut[1]);
      if (cut[2] <= cut[0] || cut[3] <= cut[1] ||
          (area > 0 && inside < config_.crop_min_visible * area)) {
        ++result.dropped;
        continue;
      }
      if (cut != b) ++result.clipped;
      b = {cut[0] - x0, cut[1] - y0, cut[2] - x0, cut[3] - y0};
    }
    // 2. resize and 3. flip, for the box.
    b = {b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy};
    if (choice.flip) b = {choice.out_width - b[2], b[1], choice.out_width - b[0], b[3]};
    result.objects.push_back(object);
    result.source_index.push_back(static_cast<int>(i));
  }
  result.valid_width = choice.out_width;
  result.valid_height = choice.out_height;
  result.scale_x = sx;
  result.scale_y = sy;
  return result;
}

void DetectionTransform::write_pixels(const DetectionSample& sample, const DetectionChoice& choice,
                                      int out_h, int out_w, float* image_out, uint8_t* mask_out,
                                      bool reference_pixels) const {
  check(sample, choice);
  const auto [min_h, min_w] = canvas_size(choice);
  OSPREY_CHECK(out_h >= min_h && out_w >= min_w,
               "detection transform: a {}x{} canvas is smaller than the sample's {}x{}", out_w,
               out_h, min_w, min_h);
  const Image& input = sample.image;
  const bool photometric_jitter = has_photometric(choice);
  if (reference_pixels || photometric_jitter) {
    write_normalised(reference_image(input, choice), choice.flip, out_h, out_w, image_out);
  } else {
    Image rgb;
    if (input.channels == 1) rgb = to_rgb(input);
    const Image& image = input.channels == 1 ? rgb : input;
    ChannelNormalise normalise;
    normalise.value_scale = config_.value_scale;
    normalise.pad_value = config_.pad_value;
    for (int oc = 0; oc < 3; ++oc) {
      normalise.source_channel[oc] = config_.bgr ? 2 - oc : oc;
      normalise.mean[oc] = mean_of(oc);
      normalise.inv_std[oc] = 1.0f / std_of(oc);
    }
    resize_flip_normalise(image, choice.crop ? choice.crop_x : 0, choice.crop ? choice.crop_y : 0,
                          choice.crop ? choice.crop_width : image.width,
                          choice.crop ? choice.crop_height : image.height, choice.out_width,
                          choice.out_height, choice.flip, normalise, out_h, out_w, image_out);
  }
  write_mask_pixels(sample, choice, out_h, out_w, mask_out);
}

void DetectionTransform::write_pixels_u8(const DetectionSample& sample,
                                         const DetectionChoice& choice, int out_h, int out_w,
                                         uint8_t* image_out, uint8_t* mask_out,
                                         bool reference_pixels) const {
  check(sample, choice);
  const auto [min_h, min_w] = canvas_size(choice);
  OSPREY_CHECK(out_h >= min_h && out_w >= min_w,
               "detection transform: a {}x{} canvas is smaller than the sample's {}x{}", out_w,
               out_h, min_w, min_h);
  const Image& input = sample.image;
  const bool photometric_jitter = has_photometric(choice);
  if (reference_pixels || photometric_jitter) {
    const Image image = reference_image(input, choice);
    const int w = image.width;
    for (int c = 0; c < 3; ++c) {
      uint8_t* plane = image_out + size_t(c) * out_h * out_w;
      write_plane(image.height, w, out_h, out_w, uint8_t{0}, plane, [&](int y, uint8_t* dst) {
        const uint8_t* row = image.row(y) + c;
        for (int x = 0; x < w; ++x) dst[x] = row[3 * (choice.flip ? w - 1 - x : x)];
      });
    }
  } else {
    Image rgb;
    if (input.channels == 1) rgb = to_rgb(input);
    const Image& image = input.channels == 1 ? rgb : input;
    resize_flip_u8(image, choice.crop ? choice.crop_x : 0, choice.crop ? choice.crop_y : 0,
                   choice.crop ? choice.crop_width : image.width,
                   choice.crop ? choice.crop_height : image.height, choice.out_width,
                   choice.out_height, choice.flip, out_h, out_w, image_out);
  }
  write_mask_pixels(sample, choice, out_h, out_w, mask_out);
}

void DetectionTransform::write_mask_pixels(const DetectionSample& sample,
                                           const DetectionChoice& choice, int out_h, int out_w,
                                           uint8_t* mask_out) const {
  if (sample.mask.empty() || !mask_out) return;
  Image mask = sample.mask;
  if (choice.crop) {
    mask = crop(mask, choice.crop_x, choice.crop_y, choice.crop_width, choice.crop_height);
  }
  mask = resize_nearest(mask, choice.out_width, choice.out_height);
  write_mask(mask, choice.flip, out_h, out_w, mask_out);
}

Image DetectionTransform::reference_image(const Image& input, const DetectionChoice& choice) const {
  // Each step makes a new image only when it changes something.
  Image owned;
  const Image* image = &input;
  auto take = [&](Image next) {
    owned = std::move(next);
    image = &owned;
  };
  if (input.channels == 1) take(to_rgb(input));
  if (choice.crop) {
    take(crop(*image, choice.crop_x, choice.crop_y, choice.crop_width, choice.crop_height));
  }
  if (image->width != choice.out_width || image->height != choice.out_height) {
    take(resize_bilinear(*image, choice.out_width, choice.out_height));
  }
  if (image != &owned) take(*image);
  if (has_photometric(choice)) {
    photometric(owned, choice.brightness, choice.contrast, choice.saturation, choice.hue);
  }
  return owned;
}

void DetectionTransform::write_normalised(const Image& image, bool flip, int out_h, int out_w,
                                          float* out) const {
  const int w = image.width;
  for (int oc = 0; oc < 3; ++oc) {
    const int source = config_.bgr ? 2 - oc : oc;
    float table[256];
    const float mean = mean_of(oc), inv_std = 1.0f / std_of(oc);
    for (int v = 0; v < 256; ++v) table[v] = (v * config_.value_scale - mean) * inv_std;
    float* plane = out + size_t(oc) * out_h * out_w;
    write_plane(image.height, w, out_h, out_w, config_.pad_value, plane, [&](int y, float* dst) {
      const uint8_t* row = image.row(y) + source;
      if (flip) {
        for (int x = 0; x < w; ++x) dst[x] = table[row[3 * (w - 1 - x)]];
      } else {
        for (int x = 0; x < w; ++x) dst[x] = table[row[3 * x]];
      }
    });
  }
}

Tensor boxes_tensor(const std::vector<Object>& objects) {
  std::vector<float> values;
  values.reserve(objects.size() * 4);
  for (const Object& o : objects) values.insert(values.end(), o.box.begin(), o.box.end());
  return Tensor::from_vector<float>(values, {static_cast<int64_t>(objects.size()), 4});
}

}  // namespace osprey::data
