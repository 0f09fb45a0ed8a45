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
#include "data/image/resize.h"

namespace osprey::data::detail {

// Everything about one call that does not depend on pixel values. Reused across calls (one per
// thread and flip): the taps are recomputed only when the sizes change (a loader's images mostly
// share them), and `generation` (unique per thread) tells tables derived from the taps (the
// avx512 blocks) when to follow.
struct ResizePlan {
  bool flip = false;
  int64_t generation = 0;
  int x0 = 0, y0 = 0;         // the window's top-left pixel in the image
  int width = 0, height = 0;  // the window
  int out_w = 0, out_h = 0;   // resized size
  int stride = 0;             // values per plane of a horizontal row buffer: out_w rounded up to 32
  std::vector<int> xa, xb;    // per output column (flip folded): the two window columns
  std::vector<int16_t> wx;    // and the Q15 weight of the second
  BilinearTaps y;             // per output row: resize.h's taps
};

void plan_resize(ResizePlan& plan, int x0, int y0, int width, int height, int out_w, int out_h,
                 bool flip);

// Runs the passes: horizontal(window_row, int16_t* planes) writes the 3 planes (stride
// plan.stride, source channel order) of one horizontally interpolated window row, in units of
// 1/128 grey level (resize.h); vertical(lo, hi, w, oc, dst) blends two such planes of output
// channel oc into the first plan.out_w values of dst. `rows` is scratch for the cached rows.
template <typename T, typename Horizontal, typename Vertical>
void run_resize(const ResizePlan& plan, const ChannelNormalise& n, T pad, int out_height,
                int out_width, T* out, std::vector<int16_t>& rows, Horizontal&& horizontal,
                Vertical&& vertical) {
  const size_t row_values = size_t(3) * plan.stride;
  rows.resize(2 * row_values);
  int16_t* row_lo = rows.data();
  int16_t* row_hi = rows.data() + row_values;
  const size_t plane = size_t(out_height) * out_width;
  int cached_lo = -1, cached_hi = -1;
  for (int y = 0; y < plan.out_h; ++y) {
    if (plan.y.lo[y] != cached_lo) {
      if (plan.y.lo[y] == cached_hi) {
        std::swap(row_lo, row_hi);
      } else {
        horizontal(plan.y.lo[y], row_lo);
      }
      cached_lo = plan.y.lo[y];
      cached_hi = -1;
    }
    if (plan.y.hi[y] != cached_hi) {
      horizontal(plan.y.hi[y], row_hi);
      cached_hi = plan.y.hi[y];
    }
    for (int oc = 0; oc < 3; ++oc) {
      const size_t c = static_cast<size_t>(n.source_channel[oc]) * plan.stride;
      T* dst = out + oc * plane + size_t(y) * out_width;
      vertical(row_lo + c, row_hi + c, plan.y.w[y], oc, dst);
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
