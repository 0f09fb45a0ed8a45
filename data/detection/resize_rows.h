// The row machinery shared by the scalar and the AVX-512 variants of resize_flip_normalise /
// resize_flip_u8 (resize_normalise.h): the taps of one call (the flip folded into the column
// taps) and the driver that runs a horizontal pass once per source row used (a two-row cache)
// and a vertical pass per output row and plane, then fills the padding. The two variants differ
// only in the two passes they plug in, so they share every decision about which rows are used.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "data/detection/resize_normalise.h"

namespace osprey::data::detail {

// Everything about one call that does not depend on pixel values. Reused across calls (one per
// thread), so the vectors keep their capacity.
struct ResizePlan {
  int x0 = 0, y0 = 0;         // the window's top-left pixel in the image
  int width = 0, height = 0;  // the window
  int out_w = 0, out_h = 0;   // resized size
  int stride = 0;             // floats per plane of a horizontal row buffer: out_w rounded to 16
  std::vector<int> xa, xb;    // per output column (flip folded): the two window columns
  std::vector<float> wx;      // and the weight of the second
  std::vector<int> ylo, yhi;  // per output row: the two window rows
  std::vector<float> wy;      // and the weight of the second
};

// resize.cc's bilinear_taps (the reference's taps, same double arithmetic): for each output
// coordinate the two input coordinates and the weight of the second.
void bilinear_taps(int in, int out, std::vector<int>& lo, std::vector<int>& hi,
                   std::vector<float>& w);

void plan_resize(ResizePlan& plan, int x0, int y0, int width, int height, int out_w, int out_h,
                 bool flip);

// Runs the passes: horizontal(window_row, float* planes) writes the 3 planes (stride
// plan.stride, source channel order) of one horizontally interpolated window row;
// vertical(lo, hi, w, oc, dst) blends two such planes of output channel oc into the first
// plan.out_w values of dst. `rows` is scratch for the two cached rows.
template <typename T, typename Horizontal, typename Vertical>
void run_resize(const ResizePlan& plan, const ChannelNormalise& n, T pad, int out_height,
                int out_width, T* out, std::vector<float>& rows, Horizontal&& horizontal,
                Vertical&& vertical) {
  const size_t row_floats = size_t(3) * plan.stride;
  rows.resize(2 * row_floats);
  float* row_lo = rows.data();
  float* row_hi = rows.data() + row_floats;
  const size_t plane = size_t(out_height) * out_width;
  int cached_lo = -1, cached_hi = -1;
  for (int y = 0; y < plan.out_h; ++y) {
    if (plan.ylo[y] != cached_lo) {
      if (plan.ylo[y] == cached_hi) {
        std::swap(row_lo, row_hi);
      } else {
        horizontal(plan.ylo[y], row_lo);
      }
      cached_lo = plan.ylo[y];
      cached_hi = -1;
    }
    if (plan.yhi[y] != cached_hi) {
      horizontal(plan.yhi[y], row_hi);
      cached_hi = plan.yhi[y];
    }
    for (int oc = 0; oc < 3; ++oc) {
      const size_t c = static_cast<size_t>(n.source_channel[oc]) * plan.stride;
      T* dst = out + oc * plane + size_t(y) * out_width;
      vertical(row_lo + c, row_hi + c, plan.wy[y], oc, dst);
      std::fill(dst + plan.out_w, dst + out_width, pad);
    }
  }
  for (int oc = 0; oc < 3; ++oc) {
    std::fill(out + oc * plane + size_t(plan.out_h) * out_width, out + (oc + 1) * plane, pad);
  }
}

// The AVX-512 (F, BW, VL, VBMI) passes, in resize_normalise_avx512.cc; callable only when
// avx512_resize_available().
bool avx512_resize_available();
void resize_flip_avx512(const Image& image, const ResizePlan& plan, const ChannelNormalise& n,
                        float pad, int out_height, int out_width, float* out);
void resize_flip_avx512(const Image& image, const ResizePlan& plan, int out_height, int out_width,
                        uint8_t* out);

}  // namespace osprey::data::detail
