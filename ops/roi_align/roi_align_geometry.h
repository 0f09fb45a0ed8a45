// RoIAlign's attributes and sampling rule, shared by the CPU and CUDA kernels (the sampling
// functions compile for both; f32 and f64). The rule is torchvision's (roi_align.h has the math);
// it is separable: a sample's bilinear weight on pixel (r, q) is wy(r) · wx(q), and a sample
// outside the map along either axis has zero weights on that axis, so the whole sample reads 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "framework/core/macros.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops {

struct RoiAlignParams {
  int64_t pooled_h = 1, pooled_w = 1;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = -1;  // <= 0: adaptive, ceil(roi size / output size) per axis
  bool aligned = false;
  static RoiAlignParams from(const dispatch::Attrs& attrs, const char* op);
  Shape output_shape(int64_t rois, int64_t channels) const {
    return {rois, channels, pooled_h, pooled_w};
  }
};

// One RoI's sampling grid along both axes, in feature-map pixels.
template <typename T>
struct RoiGrid {
  T start_h, start_w, bin_h, bin_w;
  int grid_h, grid_w;
};

template <typename T>
OSPREY_INLINE RoiGrid<T> roi_grid(const T* roi, T scale, bool aligned, int pooled_h, int pooled_w,
                                  int sampling_ratio) {
  const T offset = aligned ? T(0.5) : T(0);
  RoiGrid<T> g;
  g.start_w = roi[1] * scale - offset;
  g.start_h = roi[2] * scale - offset;
  T width = roi[3] * scale - offset - g.start_w;
  T height = roi[4] * scale - offset - g.start_h;
  if (!aligned) {  // the legacy rule: RoIs are at least one pixel
    width = width > T(1) ? width : T(1);
    height = height > T(1) ? height : T(1);
  }
  g.bin_h = height / static_cast<T>(pooled_h);
  g.bin_w = width / static_cast<T>(pooled_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(g.bin_h));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(g.bin_w));
  return g;
}

// One sample along one axis: pixel `low` with weight w_low and `high` with w_high (equal indices
// at the clamped last pixel; both weights 0 outside [-1, size]).
template <typename T>
struct AxisSample {
  int low = 0, high = 0;
  T w_low = 0, w_high = 0;
};

template <typename T>
OSPREY_INLINE AxisSample<T> axis_sample(T v, int size) {
  AxisSample<T> s;
  if (v < T(-1) || v > static_cast<T>(size)) return s;
  if (v <= T(0)) v = T(0);
  s.low = static_cast<int>(v);
  if (s.low >= size - 1) {
    s.low = s.high = size - 1;
    v = static_cast<T>(s.low);
  } else {
    s.high = s.low + 1;
  }
  const T l = v - static_cast<T>(s.low);
  s.w_low = T(1) - l;
  s.w_high = l;
  return s;
}

// Sample i (of `grid`) of bin b along an axis starting at `start` with bins of `bin`.
template <typename T>
OSPREY_INLINE T sample_coordinate(T start, T bin, int b, int i, int grid) {
  return start + static_cast<T>(b) * bin +
         (static_cast<T>(i) + T(0.5)) * bin / static_cast<T>(grid);
}

// The gather form of the backward (cuda/gather and its CPU twin cpu/gather): per input pixel,
// which pixels a RoI reads along an axis, which bins can reach a pixel, and its weight in a bin.
// The pixels one axis of a RoI reads: [first, last], empty when first > last.
template <typename T>
OSPREY_INLINE void axis_window(T start, T bin, int bins, int grid, int size, int& first,
                               int& last) {
  first = size;
  last = -1;
  for (int b = 0; b < bins; ++b)
    for (int i = 0; i < grid; ++i) {
      const AxisSample<T> s = axis_sample(sample_coordinate(start, bin, b, i, grid), size);
      if (s.w_low == T(0) && s.w_high == T(0)) continue;
      first = s.low < first ? s.low : first;
      last = s.high > last ? s.high : last;
    }
}

// The weight of pixel p in bin b along one axis (summed over the bin's samples, undivided).
template <typename T>
OSPREY_INLINE T axis_weight(T start, T bin, int b, int grid, int size, int p) {
  T w = 0;
  for (int i = 0; i < grid; ++i) {
    const AxisSample<T> s = axis_sample(sample_coordinate(start, bin, b, i, grid), size);
    if (s.low == p) w += s.w_low;
    if (s.high == p) w += s.w_high;
  }
  return w;
}

// The bins [first, last) whose samples can give pixel p a weight: samples within one pixel of p,
// or beyond the map's edge for its first and last pixel (edge samples move onto them).
template <typename T>
OSPREY_INLINE void bin_range(T start, T bin, int bins, int size, int p, int& first, int& last) {
  first = 0;
  last = bins;
  if (!(bin > T(0))) return;
  const T lo = p == 0 ? T(-1) : static_cast<T>(p - 1);
  const T hi = p == size - 1 ? static_cast<T>(size) : static_cast<T>(p + 1);
  // Clamped before the conversion: a tiny bin gives quotients far outside int's range.
  const T a = floor((lo - start) / bin) - T(1), b = ceil((hi - start) / bin) + T(1);
  first = a <= T(0) ? 0 : (a >= static_cast<T>(bins) ? bins : static_cast<int>(a));
  last = b >= static_cast<T>(bins) ? bins : (b <= T(0) ? 0 : static_cast<int>(b));
}

// The weights of each bin of one RoI along one axis, merged over the bin's samples and divided by
// their number: bin b reads index[start[b] .. start[b + 1]) with weight[...]. The weight of pixel
// (r, q) in output bin (i, j) is rows.weight(i, r) · cols.weight(j, q). Built on the host by the
// fast CPU kernel for each RoI.
template <typename T>
struct AxisTaps {
  std::vector<int32_t> start, index;
  std::vector<T> weight;
  std::vector<T> dense;  // scratch: one bin's weights over its pixel window

  void build(T first, T bin, int bins, int grid, int size) {
    start.assign(1, 0);
    index.clear();
    weight.clear();
    for (int b = 0; b < bins; ++b) {
      int lo = size, hi = -1;
      dense.assign(static_cast<size_t>(size), T(0));
      for (int i = 0; i < grid; ++i) {
        const AxisSample<T> s = axis_sample(sample_coordinate(first, bin, b, i, grid), size);
        if (s.w_low == T(0) && s.w_high == T(0)) continue;  // outside the map
        dense[s.low] += s.w_low;
        dense[s.high] += s.w_high;
        lo = s.low < lo ? s.low : lo;
        hi = s.high > hi ? s.high : hi;
      }
      const T scale = T(1) / static_cast<T>(grid > 0 ? grid : 1);
      for (int r = lo; r <= hi; ++r) {
        if (dense[r] == T(0)) continue;
        index.push_back(r);
        weight.push_back(dense[r] * scale);
      }
      start.push_back(static_cast<int32_t>(index.size()));
    }
  }
};

}  // namespace osprey::ops
