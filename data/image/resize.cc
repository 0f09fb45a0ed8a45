#include "data/image/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "framework/core/error.h"

namespace osprey::data {

namespace {

void check_size(const Image& image, int width, int height, const char* what) {
  OSPREY_CHECK(width > 0 && height > 0, "{}: output size {}x{} must be positive", what, width,
               height);
  OSPREY_CHECK(!image.empty() && image.width > 0 && image.height > 0,
               "{}: the input image is empty ({}x{}x{})", what, image.width, image.height,
               image.channels);
}

}  // namespace

BilinearTaps bilinear_taps(int in, int out) {
  BilinearTaps t;
  t.lo.resize(out);
  t.hi.resize(out);
  t.w.resize(out);
  const double ratio = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    const double s = std::max(0.0, (i + 0.5) * ratio - 0.5);
    const int lo = std::min(static_cast<int>(s), in - 1);
    t.lo[i] = lo;
    t.hi[i] = std::min(lo + 1, in - 1);
    t.w[i] = static_cast<int16_t>(std::min(32767, static_cast<int>((s - lo) * 32768 + 0.5)));
  }
  return t;
}

Image resize_bilinear(const Image& image, int width, int height) {
  check_size(image, width, height, "resize_bilinear");
  if (width == image.width && height == image.height) return image;
  const BilinearTaps xs = bilinear_taps(image.width, width),
                     ys = bilinear_taps(image.height, height);
  const int c = image.channels;
  Image out(width, height, c);
  // Rows are interpolated horizontally once each and blended vertically; a row cache of the two
  // source rows in use avoids recomputing the horizontal pass for every output row.
  std::vector<int> row_lo(size_t(width) * c), row_hi(size_t(width) * c);
  int cached_lo = -1, cached_hi = -1;
  auto horizontal = [&](int sy, std::vector<int>& dst) {
    const uint8_t* src = image.row(sy);
    for (int x = 0; x < width; ++x) {
      const uint8_t* a = src + size_t(xs.lo[x]) * c;
      const uint8_t* b = src + size_t(xs.hi[x]) * c;
      for (int k = 0; k < c; ++k)
        dst[size_t(x) * c + k] = bilinear_blend(128 * a[k], 128 * b[k], xs.w[x]);
    }
  };
  for (int y = 0; y < height; ++y) {
    if (ys.lo[y] != cached_lo) {
      if (ys.lo[y] == cached_hi) {
        std::swap(row_lo, row_hi);
      } else {
        horizontal(ys.lo[y], row_lo);
      }
      cached_lo = ys.lo[y];
      cached_hi = -1;
    }
    if (ys.hi[y] != cached_hi) {
      horizontal(ys.hi[y], row_hi);
      cached_hi = ys.hi[y];
    }
    const int w = ys.w[y];
    uint8_t* dst = out.row(y);
    for (size_t i = 0; i < row_lo.size(); ++i) {
      // A blend of values in [0, 128 · 255] stays there: the result needs no clamp.
      dst[i] = static_cast<uint8_t>((bilinear_blend(row_lo[i], row_hi[i], w) + 64) >> 7);
    }
  }
  return out;
}

Image resize_nearest(const Image& image, int width, int height) {
  check_size(image, width, height, "resize_nearest");
  if (width == image.width && height == image.height) return image;
  const int c = image.channels;
  std::vector<int> xs(width);
  for (int x = 0; x < width; ++x) {
    xs[x] = std::min(static_cast<int>((x + 0.5) * image.width / width), image.width - 1);
  }
  Image out(width, height, c);
  for (int y = 0; y < height; ++y) {
    const int sy = std::min(static_cast<int>((y + 0.5) * image.height / height), image.height - 1);
    const uint8_t* src = image.row(sy);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < width; ++x) std::memcpy(dst + size_t(x) * c, src + size_t(xs[x]) * c, c);
  }
  return out;
}

Image crop(const Image& image, int x, int y, int width, int height) {
  OSPREY_CHECK(x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= image.width &&
                   y + height <= image.height,
               "crop: window {}x{} at ({}, {}) does not fit in the image {}x{}", width, height, x,
               y, image.width, image.height);
  Image out(width, height, image.channels);
  for (int r = 0; r < height; ++r) {
    std::memcpy(out.row(r), image.row(y + r) + size_t(x) * image.channels,
                size_t(width) * image.channels);
  }
  return out;
}

Image flip_horizontal(const Image& image) {
  Image out(image.width, image.height, image.channels);
  const int c = image.channels;
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* src = image.row(y);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < image.width; ++x) {
      std::memcpy(dst + size_t(image.width - 1 - x) * c, src + size_t(x) * c, c);
    }
  }
  return out;
}

}  // namespace osprey::data
