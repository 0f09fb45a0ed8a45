#include "data/detection/resize_normalise.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "framework/core/error.h"

namespace osprey::data {

namespace {

// resize.cc's bilinear_taps: for each output coordinate the two input coordinates and the weight
// of the second, for `in` input pixels resized to `out`.
void bilinear_taps(int in, int out, std::vector<int>& lo, std::vector<int>& hi,
                   std::vector<float>& w) {
  lo.resize(out);
  hi.resize(out);
  w.resize(out);
  const double ratio = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    const double s = std::max(0.0, (i + 0.5) * ratio - 0.5);
    const int l = std::min(static_cast<int>(s), in - 1);
    lo[i] = l;
    hi[i] = std::min(l + 1, in - 1);
    w[i] = static_cast<float>(s - l);
  }
}

// The pass for both outputs: T = float normalises, T = uint8_t stores the rounded value.
template <typename T>
void resize_flip(const Image& image, int x0, int y0, int width, int height, int resized_width,
                 int resized_height, bool flip, const ChannelNormalise& n, T pad, int out_height,
                 int out_width, T* out) {
  OSPREY_CHECK(image.channels == 3 && x0 >= 0 && y0 >= 0 && width > 0 && height > 0 &&
                   x0 + width <= image.width && y0 + height <= image.height,
               "resize_flip_normalise: window {}x{} at ({}, {}) of a {}x{}x{} image (RGB needed)",
               width, height, x0, y0, image.width, image.height, image.channels);
  OSPREY_CHECK(
      resized_width > 0 && resized_height > 0 && out_width >= resized_width &&
          out_height >= resized_height,
      "resize_flip_normalise: resized size {}x{} must be positive and fit the canvas {}x{}",
      resized_width, resized_height, out_width, out_height);
  const int ow = resized_width, oh = resized_height;
  std::vector<int> xlo, xhi, ylo, yhi;
  std::vector<float> xw, yw;
  bilinear_taps(width, ow, xlo, xhi, xw);
  bilinear_taps(height, oh, ylo, yhi, yw);
  // Byte offsets of the taps within a source row (the window's x0 included), mirrored for a flip:
  // output column x of the flipped image is column ow − 1 − x of the resized one.
  std::vector<int> a_off(ow), b_off(ow);
  std::vector<float> wx(ow);
  for (int x = 0; x < ow; ++x) {
    const int t = flip ? ow - 1 - x : x;
    a_off[x] = 3 * (x0 + xlo[t]);
    b_off[x] = 3 * (x0 + xhi[t]);
    wx[x] = xw[t];
  }
  // Two planar rows (3 planes of ow floats each) of horizontally interpolated source rows.
  std::vector<float> row_lo(size_t(3) * ow), row_hi(size_t(3) * ow);
  auto horizontal = [&](int sy, std::vector<float>& dst) {
    const uint8_t* src = image.row(y0 + sy);
    float* p[3] = {dst.data(), dst.data() + ow, dst.data() + 2 * ow};
    for (int x = 0; x < ow; ++x) {
      const uint8_t* a = src + a_off[x];
      const uint8_t* b = src + b_off[x];
      const float w = wx[x];
      // The reference's expression, term for term, so the rounding below agrees exactly.
      for (int k = 0; k < 3; ++k) p[k][x] = a[k] + w * static_cast<float>(b[k] - a[k]);
    }
  };
  const size_t plane = size_t(out_height) * out_width;
  int cached_lo = -1, cached_hi = -1;
  for (int y = 0; y < oh; ++y) {
    if (ylo[y] != cached_lo) {
      if (ylo[y] == cached_hi) {
        std::swap(row_lo, row_hi);
      } else {
        horizontal(ylo[y], row_lo);
      }
      cached_lo = ylo[y];
      cached_hi = -1;
    }
    if (yhi[y] != cached_hi) {
      horizontal(yhi[y], row_hi);
      cached_hi = yhi[y];
    }
    const float w = yw[y];
    for (int oc = 0; oc < 3; ++oc) {
      const int c = n.source_channel[oc];
      const float* __restrict lo = row_lo.data() + size_t(c) * ow;
      const float* __restrict hi = row_hi.data() + size_t(c) * ow;
      T* __restrict dst = out + oc * plane + size_t(y) * out_width;
      const float scale = n.value_scale, mean = n.mean[oc], inv_std = n.inv_std[oc];
      for (int x = 0; x < ow; ++x) {
        const float v = lo[x] + w * (hi[x] - lo[x]);
        // resize_bilinear's rounding to u8 (a blend of u8 values needs no clamp), then the
        // normalisation table's expression.
        const int r = static_cast<int>(v + 0.5f);
        if constexpr (std::is_same_v<T, float>) {
          dst[x] = (static_cast<float>(r) * scale - mean) * inv_std;
        } else {
          dst[x] = static_cast<uint8_t>(r);
        }
      }
      std::fill(dst + ow, dst + out_width, pad);
    }
  }
  for (int oc = 0; oc < 3; ++oc) {
    std::fill(out + oc * plane + size_t(oh) * out_width, out + (oc + 1) * plane, pad);
  }
}

}  // namespace

void resize_flip_normalise(const Image& image, int x0, int y0, int width, int height,
                           int resized_width, int resized_height, bool flip,
                           const ChannelNormalise& normalise, int out_height, int out_width,
                           float* out) {
  resize_flip(image, x0, y0, width, height, resized_width, resized_height, flip, normalise,
              normalise.pad_value, out_height, out_width, out);
}

void resize_flip_u8(const Image& image, int x0, int y0, int width, int height, int resized_width,
                    int resized_height, bool flip, int out_height, int out_width, uint8_t* out) {
  resize_flip(image, x0, y0, width, height, resized_width, resized_height, flip, ChannelNormalise{},
              uint8_t{0}, out_height, out_width, out);
}

}  // namespace osprey::data
