// roi_pool's attributes and bin rule, shared by the CPU and CUDA kernels (roi_pool.h has the math;
// computed in the input's dtype T as torchvision does, so f32 bins match torchvision's).
#pragma once

#include <cmath>
#include <cstdint>

#include "framework/core/macros.h"
#include "framework/core/tensor.h"
#include "framework/dispatch/attributes.h"

namespace osprey::ops {

struct RoiPoolParams {
  int64_t pooled_h = 1, pooled_w = 1;
  double spatial_scale = 1.0;
  static RoiPoolParams from(const dispatch::Attrs& attrs, const char* op);
};

// The half-open pixel ranges of bin (i, j) of a RoI.
struct PoolBin {
  int h0, h1, w0, w1;
  OSPREY_HOST_DEVICE bool empty() const { return h1 <= h0 || w1 <= w0; }
};

OSPREY_INLINE int clamp_bin_edge(int v, int hi) {
  return v < 0 ? 0 : (v > hi ? hi : v);
}

template <typename T>
OSPREY_INLINE PoolBin roi_pool_bin(const T* roi, T scale, int pooled_h, int pooled_w, int i, int j,
                                   int H, int W) {
  const int x1 = static_cast<int>(round(roi[1] * scale));
  const int y1 = static_cast<int>(round(roi[2] * scale));
  const int x2 = static_cast<int>(round(roi[3] * scale));
  const int y2 = static_cast<int>(round(roi[4] * scale));
  const int rw = x2 - x1 + 1 > 1 ? x2 - x1 + 1 : 1;
  const int rh = y2 - y1 + 1 > 1 ? y2 - y1 + 1 : 1;
  const T bin_h = static_cast<T>(rh) / static_cast<T>(pooled_h);
  const T bin_w = static_cast<T>(rw) / static_cast<T>(pooled_w);
  PoolBin b;
  b.h0 = clamp_bin_edge(static_cast<int>(floor(static_cast<T>(i) * bin_h)) + y1, H);
  b.h1 = clamp_bin_edge(static_cast<int>(ceil(static_cast<T>(i + 1) * bin_h)) + y1, H);
  b.w0 = clamp_bin_edge(static_cast<int>(floor(static_cast<T>(j) * bin_w)) + x1, W);
  b.w1 = clamp_bin_edge(static_cast<int>(ceil(static_cast<T>(j + 1) * bin_w)) + x1, W);
  return b;
}

}  // namespace osprey::ops
