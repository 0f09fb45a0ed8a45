// Resizing and cropping of 8-bit HWC images, the geometric steps of the detection transforms.
// Pixel centres sit at (x + 0.5, y + 0.5) (the continuous box convention of
// data/detection/annotation.h), so output pixel x samples the input at
// (x + 0.5) · in_width / out_width − 0.5: a box (x1, y1, x2, y2) maps to the same content at
// (x1 · sx, y1 · sy, x2 · sx, y2 · sy), sx = out_width / in_width.
#pragma once

#include <cstdint>
#include <vector>

#include "data/image/image.h"

namespace osprey::data {

// Bilinear interpolation (OpenCV's INTER_LINEAR, PyTorch's align_corners = false); samples outside
// the image take the nearest edge pixel. No anti-aliasing: shrinking by more than 2× skips pixels,
// which is what detection pipelines (Detectron, SNIPER) do too.
//
// The arithmetic is fixed point, defined exactly so that 16-bit SIMD code (the detection
// loader's fused pass, data/detection/resize_normalise.h) reproduces it bit for bit:
// - taps (bilinear_taps): sample s = max(0, (i + 0.5) · in / out − 0.5) in double, lo =
//   min(floor(s), in − 1), hi = min(lo + 1, in − 1), and the weight of hi in Q15,
//   w = min(32767, floor((s − lo) · 32768 + 0.5)) (the sum in double).
// - horizontal, per channel, in units of 1/128 grey level: h = blend(128·a, 128·b, wx) with
//   blend(p, q, w) = p + (((q − p) · w + 2^14) >> 15) (an arithmetic shift: the rounding of
//   x86's pmulhrsw); every value fits in 16 bits (|q − p| ≤ 32640).
// - vertical: v = blend(h_lo, h_hi, wy); the 8-bit result is (v + 64) >> 7 (half rounds up).
// Against exact bilinear interpolation with real weights: each weight is within 2^-15 (0.008 grey
// level on a step of 255) and each blend rounds to the nearest 1/128 grey level (0.004), so v/128
// is within 0.024 grey level of the exact value;
// the result is the exact value rounded to nearest except when the exact value lies within
// 0.025 of a half-integer, where it may be 1 off. resize_variants_test checks this bound.
Image resize_bilinear(const Image& image, int width, int height);

// The taps along one axis of `in` pixels resized to `out` (see above).
struct BilinearTaps {
  std::vector<int> lo, hi;
  std::vector<int16_t> w;  // Q15 weight of hi
};
BilinearTaps bilinear_taps(int in, int out);
// p + (q − p) · w / 2^15 rounded, as pmulhrsw rounds.
inline int bilinear_blend(int p, int q, int w) {
  return p + (((q - p) * w + (1 << 14)) >> 15);
}

// Nearest neighbour: output pixel x copies input pixel floor((x + 0.5) · in_width / out_width).
// For label masks, whose values are class indices that must not be blended.
Image resize_nearest(const Image& image, int width, int height);
// The window of `width` × `height` pixels whose top-left pixel is (x, y); it must lie inside the
// image.
Image crop(const Image& image, int x, int y, int width, int height);
// Mirrored left-right.
Image flip_horizontal(const Image& image);

}  // namespace osprey::data
