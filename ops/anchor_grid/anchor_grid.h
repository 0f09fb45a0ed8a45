// Anchors of a region proposal network over a feature map.
//
//   anchor_grid(; base_size=16, scales, ratios, stride=16, map_size=[H, W], legacy_plus_one=false,
//               dtype=f32) -> anchors [H * W * A, 4], A = len(ratios) * len(scales)
//
// Order: anchors[((y * W + x) * A + a)], a = r * len(scales) + s — positions row-major (x
// fastest), the A anchors of a position together, ratio-major then scale; this is the order of
// py-faster-rcnn's generate_anchors + shifts (SNIPER, Deformable-ConvNets) and of torchvision's
// AnchorGenerator, so RPN head channels (A per position) line up with either. Each anchor of
// position (x, y) is its base anchor shifted by (x * stride, y * stride). ratio = height / width.
//
// Base anchors:
//   legacy_plus_one=true (py-faster-rcnn generate_anchors, exactly): the base box [0, 0, base-1,
//     base-1], centre c = (base - 1) / 2; per ratio r: ws = round(sqrt(base^2 / r)),
//     hs = round(ws * r) (round half to even, as numpy); per scale s: width ws*s, height hs*s,
//     box [c - (ws*s - 1)/2, c - (hs*s - 1)/2, c + (ws*s - 1)/2, c + (hs*s - 1)/2].
//     SNIPER: base 16, scales (2, 4, 7, 10, 13, 16, 24), ratios (0.5, 1, 2), stride 16.
//   legacy_plus_one=false (torchvision AnchorGenerator with sizes base*s): centred on 0,
//     w = base*s / sqrt(r), h = base*s * sqrt(r), box round([-w/2, -h/2, w/2, h/2]).
// Anchors are constants: no inputs, not differentiable.
#pragma once

#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct AnchorGridOptions {
  int64_t base_size = 16;
  std::vector<double> scales{2, 4, 7, 10, 13, 16, 24};  // SNIPER's
  std::vector<double> ratios{0.5, 1, 2};
  int64_t stride = 16;
  int64_t height = 1, width = 1;  // feature map size
  bool legacy_plus_one = false;
};

Tensor anchor_grid(const AnchorGridOptions& options, DType dtype = DType::f32,
                   Device device = Device::cpu());

// The A base anchors (x1, y1, x2, y2), in the order above; shared by the CPU and CUDA kernels.
std::vector<double> base_anchors(int64_t base_size, const std::vector<double>& scales,
                                 const std::vector<double>& ratios, bool legacy_plus_one);

}  // namespace osprey::ops
