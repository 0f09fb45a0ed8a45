// Where deformable_roi_pool samples (rules in deformable_roi_pool.h), shared by the CPU reference
// and the CUDA kernels so that both place every sample with the same arithmetic (in the storage
// type T, as SNIPER-mxnet does).
#pragma once

#include <cmath>
#include <cstdint>

#include "framework/core/macros.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops::droi {

struct Geometry {
  int64_t channels = 0, height = 0, width = 0;
  int64_t pooled_h = 7, pooled_w = 7, samples = 4;
  double spatial_scale = 0.0625, trans_std = 0.1;
  OSPREY_INLINE int64_t bins() const { return pooled_h * pooled_w; }
};

// The geometry of a call: input (N, C, H, W) and the op's attributes (checked by validate).
inline Geometry geometry_of(const dispatch::Attrs& attrs, const Shape& input) {
  Geometry g;
  g.channels = input[1];
  g.height = input[2];
  g.width = input[3];
  const std::vector<int64_t> size = attrs.get_ints("output_size");
  g.pooled_h = size[0];
  g.pooled_w = size.size() > 1 ? size[1] : size[0];
  g.samples = attrs.get_int("sample_per_part");
  g.spatial_scale = attrs.get_float("spatial_scale");
  g.trans_std = attrs.get_float("trans_std");
  return g;
}

// One output bin of one RoI: its batch image, the first sample's position and the steps.
template <typename T>
struct Bin {
  int64_t batch;
  T wstart, hstart;  // first sample (already shifted by the offset)
  T sub_w, sub_h;    // distance between samples
  T roi_w, roi_h;    // d wstart / d tx = trans_std · roi_w (and likewise for y)
};

// roi points at (batch, x1, y1, x2, y2); offset at the RoI's (2, pooled_h, pooled_w) block or null.
template <typename T>
OSPREY_INLINE Bin<T> bin_of(const Geometry& g, const T* roi, const T* offset, int64_t ph,
                            int64_t pw) {
  const T scale = static_cast<T>(g.spatial_scale);
  const T start_w = static_cast<T>(::round(roi[1])) * scale - T(0.5);
  const T start_h = static_cast<T>(::round(roi[2])) * scale - T(0.5);
  const T end_w = (static_cast<T>(::round(roi[3])) + T(1)) * scale - T(0.5);
  const T end_h = (static_cast<T>(::round(roi[4])) + T(1)) * scale - T(0.5);
  Bin<T> b;
  b.batch = static_cast<int64_t>(roi[0]);
  b.roi_w = end_w - start_w > T(0.1) ? end_w - start_w : T(0.1);
  b.roi_h = end_h - start_h > T(0.1) ? end_h - start_h : T(0.1);
  const T bin_w = b.roi_w / static_cast<T>(g.pooled_w);
  const T bin_h = b.roi_h / static_cast<T>(g.pooled_h);
  b.sub_w = bin_w / static_cast<T>(g.samples);
  b.sub_h = bin_h / static_cast<T>(g.samples);
  T tx = 0, ty = 0;
  if (offset) {
    const T t_std = static_cast<T>(g.trans_std);
    tx = offset[ph * g.pooled_w + pw] * t_std;
    ty = offset[(g.pooled_h + ph) * g.pooled_w + pw] * t_std;
  }
  b.wstart = static_cast<T>(pw) * bin_w + start_w + tx * b.roi_w;
  b.hstart = static_cast<T>(ph) * bin_h + start_h + ty * b.roi_h;
  return b;
}

// One sample: skipped unless valid; otherwise the clamped position's corners (y0, x0) and
// (y1, x1) = (min(y0 + 1, H − 1), min(x0 + 1, W − 1)), the fractions, and whether the position
// moves with the offset (false where it was clamped to the map).
template <typename T>
struct Sample {
  bool valid;
  int64_t y0, x0, y1, x1;
  T ly, lx;
  bool moves_y, moves_x;
};

template <typename T>
OSPREY_INLINE Sample<T> sample_of(const Geometry& g, const Bin<T>& b, int64_t ih, int64_t iw) {
  Sample<T> s{};
  const T w = b.wstart + static_cast<T>(iw) * b.sub_w;
  const T h = b.hstart + static_cast<T>(ih) * b.sub_h;
  const T W = static_cast<T>(g.width), H = static_cast<T>(g.height);
  s.valid = !(w < T(-0.5) || w > W - T(0.5) || h < T(-0.5) || h > H - T(0.5));
  if (!s.valid) return s;
  s.moves_x = w >= T(0) && w <= W - T(1);
  s.moves_y = h >= T(0) && h <= H - T(1);
  const T wc = w < T(0) ? T(0) : (w > W - T(1) ? W - T(1) : w);
  const T hc = h < T(0) ? T(0) : (h > H - T(1) ? H - T(1) : h);
  s.x0 = static_cast<int64_t>(::floor(wc));
  s.y0 = static_cast<int64_t>(::floor(hc));
  s.x1 = s.x0 + 1 < g.width ? s.x0 + 1 : s.x0;
  s.y1 = s.y0 + 1 < g.height ? s.y0 + 1 : s.y0;
  s.lx = wc - static_cast<T>(s.x0);
  s.ly = hc - static_cast<T>(s.y0);
  return s;
}

// The bilinear value of plane (H x W, contiguous) at the sample.
template <typename T>
OSPREY_INLINE T bilinear(const T* plane, int64_t width, const Sample<T>& s) {
  const T v00 = plane[s.y0 * width + s.x0], v01 = plane[s.y0 * width + s.x1];
  const T v10 = plane[s.y1 * width + s.x0], v11 = plane[s.y1 * width + s.x1];
  return (T(1) - s.ly) * ((T(1) - s.lx) * v00 + s.lx * v01) +
         s.ly * ((T(1) - s.lx) * v10 + s.lx * v11);
}

// d value / d w and d value / d h at the sample (0 along a clamped coordinate).
template <typename T>
OSPREY_INLINE void bilinear_slopes(const T* plane, int64_t width, const Sample<T>& s, T* dw,
                                   T* dh) {
  const T v00 = plane[s.y0 * width + s.x0], v01 = plane[s.y0 * width + s.x1];
  const T v10 = plane[s.y1 * width + s.x0], v11 = plane[s.y1 * width + s.x1];
  *dw = s.moves_x ? (T(1) - s.ly) * (v01 - v00) + s.ly * (v11 - v10) : T(0);
  *dh = s.moves_y ? (T(1) - s.lx) * (v10 - v00) + s.lx * (v11 - v01) : T(0);
}

// The number of valid samples of a bin (the mean's divisor; 0: the bin outputs 0).
template <typename T>
OSPREY_INLINE int64_t valid_samples(const Geometry& g, const Bin<T>& b) {
  int64_t count = 0;
  for (int64_t ih = 0; ih < g.samples; ++ih) {
    for (int64_t iw = 0; iw < g.samples; ++iw) count += sample_of(g, b, ih, iw).valid ? 1 : 0;
  }
  return count;
}

}  // namespace osprey::ops::droi
