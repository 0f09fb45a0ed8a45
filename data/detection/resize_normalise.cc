#include "data/detection/resize_normalise.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "data/detection/resize_rows.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace detail {

void plan_resize(ResizePlan& plan, int x0, int y0, int width, int height, int out_w, int out_h,
                 bool flip) {
  plan.x0 = x0;
  plan.y0 = y0;
  if (plan.generation > 0 && plan.width == width && plan.height == height && plan.out_w == out_w &&
      plan.out_h == out_h && plan.flip == flip) {
    return;
  }
  thread_local int64_t generations = 0;
  plan.generation = ++generations;
  plan.flip = flip;
  plan.width = width;
  plan.height = height;
  plan.out_w = out_w;
  plan.out_h = out_h;
  plan.stride = (out_w + 31) / 32 * 32;
  const BilinearTaps x = bilinear_taps(width, out_w);
  plan.y = bilinear_taps(height, out_h);
  // Output column x of the flipped image is column out_w − 1 − x of the resized one.
  plan.xa.resize(out_w);
  plan.xb.resize(out_w);
  plan.wx.resize(out_w);
  for (int i = 0; i < out_w; ++i) {
    const int t = flip ? out_w - 1 - i : i;
    plan.xa[i] = x.lo[t];
    plan.xb[i] = x.hi[t];
    plan.wx[i] = x.w[t];
  }
}

}  // namespace detail

namespace {

void check_call(const Image& image, int x0, int y0, int width, int height, int resized_width,
                int resized_height, int out_height, int out_width) {
  OSPREY_CHECK(image.channels == 3 && x0 >= 0 && y0 >= 0 && width > 0 && height > 0 &&
                   x0 + width <= image.width && y0 + height <= image.height,
               "resize_flip_normalise: window {}x{} at ({}, {}) of a {}x{}x{} image (RGB needed)",
               width, height, x0, y0, image.width, image.height, image.channels);
  OSPREY_CHECK(
      resized_width > 0 && resized_height > 0 && out_width >= resized_width &&
          out_height >= resized_height,
      "resize_flip_normalise: resized size {}x{} must be positive and fit the canvas {}x{}",
      resized_width, resized_height, out_width, out_height);
}

bool use_avx512(ResizePath path) {
  if (path == ResizePath::scalar) return false;
  if (path == ResizePath::best) return detail::avx512_resize_available();
  OSPREY_CHECK(detail::avx512_resize_available(),
               "resize_flip_normalise: the avx512 path needs AVX-512 F/BW/VL/VBMI, which this CPU "
               "lacks (use ResizePath::best or scalar)");
  return true;
}

// The portable pass: T = float normalises, T = uint8_t stores the rounded value.
template <typename T>
void resize_flip_scalar(const Image& image, const detail::ResizePlan& p, const ChannelNormalise& n,
                        T pad, int out_height, int out_width, T* out) {
  thread_local std::vector<int16_t> rows;
  auto horizontal = [&](int sy, int16_t* dst) {
    const uint8_t* src = image.row(p.y0 + sy) + size_t(3) * p.x0;
    int16_t* planes[3] = {dst, dst + p.stride, dst + 2 * p.stride};
    const int* __restrict xa = p.xa.data();
    const int* __restrict xb = p.xb.data();
    const int16_t* __restrict wx = p.wx.data();
    for (int x = 0; x < p.out_w; ++x) {
      const uint8_t* a = src + 3 * xa[x];
      const uint8_t* b = src + 3 * xb[x];
      const int w = wx[x];
      // bilinear_blend(128·a, 128·b, w) = 128·a + ((128·(b − a)·w + 2^14) >> 15)
      //                                 = 128·a + (((b − a)·w + 2^7) >> 8).
      for (int k = 0; k < 3; ++k) {
        planes[k][x] = static_cast<int16_t>((a[k] << 7) + (((b[k] - a[k]) * w + 128) >> 8));
      }
    }
  };
  auto vertical = [&](const int16_t* __restrict lo, const int16_t* __restrict hi, int w, int oc,
                      T* __restrict dst) {
    const float scale = n.value_scale, mean = n.mean[oc], inv_std = n.inv_std[oc];
    const int16_t w16 = static_cast<int16_t>(w);
    for (int x = 0; x < p.out_w; ++x) {
      // resize_bilinear's vertical blend (bilinear_blend) and rounding to 8 bits, then the
      // normalisation table's expression. The difference is held in 16 bits (it fits), so the
      // product is a 16x16 -> 32-bit multiply, which SSE2 vectorises.
      const int16_t d = static_cast<int16_t>(hi[x] - lo[x]);
      const int r = (lo[x] + ((d * w16 + (1 << 14)) >> 15) + 64) >> 7;
      if constexpr (std::is_same_v<T, float>) {
        dst[x] = (static_cast<float>(r) * scale - mean) * inv_std;
      } else {
        dst[x] = static_cast<uint8_t>(r);
      }
    }
  };
  detail::run_resize(p, n, pad, out_height, out_width, out, rows, horizontal, vertical);
}

detail::ResizePlan& plan_for(int x0, int y0, int width, int height, int resized_width,
                             int resized_height, bool flip) {
  // One plan per flip: a loader flips images at random, and both keep their taps.
  thread_local detail::ResizePlan plans[2];
  detail::ResizePlan& plan = plans[flip ? 1 : 0];
  detail::plan_resize(plan, x0, y0, width, height, resized_width, resized_height, flip);
  return plan;
}

}  // namespace

bool resize_avx512_available() {
  return detail::avx512_resize_available();
}

void resize_flip_normalise(const Image& image, int x0, int y0, int width, int height,
                           int resized_width, int resized_height, bool flip,
                           const ChannelNormalise& normalise, int out_height, int out_width,
                           float* out, ResizePath path) {
  check_call(image, x0, y0, width, height, resized_width, resized_height, out_height, out_width);
  const bool avx512 = use_avx512(path);
  const detail::ResizePlan& plan =
      plan_for(x0, y0, width, height, resized_width, resized_height, flip);
  if (avx512) {
    detail::resize_flip_avx512(image, plan, normalise, normalise.pad_value, out_height, out_width,
                               out);
  } else {
    resize_flip_scalar(image, plan, normalise, normalise.pad_value, out_height, out_width, out);
  }
}

void resize_flip_u8(const Image& image, int x0, int y0, int width, int height, int resized_width,
                    int resized_height, bool flip, int out_height, int out_width, uint8_t* out,
                    ResizePath path) {
  check_call(image, x0, y0, width, height, resized_width, resized_height, out_height, out_width);
  const bool avx512 = use_avx512(path);
  const detail::ResizePlan& plan =
      plan_for(x0, y0, width, height, resized_width, resized_height, flip);
  if (avx512) {
    detail::resize_flip_avx512(image, plan, out_height, out_width, out);
  } else {
    resize_flip_scalar(image, plan, ChannelNormalise{}, uint8_t{0}, out_height, out_width, out);
  }
}

}  // namespace osprey::data
