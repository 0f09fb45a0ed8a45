// RoI max pooling (Fast R-CNN; torchvision.ops.roi_pool's names and semantics) and its gradient.
//
//   roi_pool(input, rois; output_size, spatial_scale=1) -> (output, argmax)
//     input N × C × H × W (NCHW or channels-last), rois K × 5 rows (batch_index, x1, y1, x2, y2)
//     (ops/common/roi_check.h), output_size (PH, PW) or one size.
//     output K × C × PH × PW (channels-last when input is), argmax i64 of the same shape: the
//     flat index h·W + w in the input plane of each maximum, −1 for an empty bin.
//   For RoI k on image n, in the input's dtype T: x1' = round(x1·spatial_scale) (round half away
//   from zero; likewise y1', x2', y2'), w = max(x2' − x1' + 1, 1), h = max(y2' − y1' + 1, 1),
//   bin_h = h / PH, bin_w = w / PW (in T), and bin (i, j) covers rows
//   [clamp(y1' + floor(i·bin_h)), clamp(y1' + ceil((i + 1)·bin_h))) and columns likewise,
//   clamped to [0, H] ([0, W]). out = the maximum over the bin (the first of equal values in
//   row-major order wins; NaN never wins), 0 with argmax −1 when the bin is empty.
//   Gradient: grad_input[n, c, argmax] += g[k, c, i, j] for every bin with argmax >= 0 (a
//   subgradient at ties). rois and argmax get none. roi_pool_backward(grad_output, rois, argmax;
//   input_size) is that scatter, as an op (not differentiable itself).
// Kernels: cpu/reference; cuda/direct (forward one thread per output; backward one thread per
// (image, channel) plane adding that image's RoIs in order: deterministic, no atomics).
#pragma once

#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

std::pair<Tensor, Tensor> roi_pool(const Tensor& input, const Tensor& rois,
                                   const std::vector<int64_t>& output_size,
                                   double spatial_scale = 1.0);

Tensor roi_pool_backward(const Tensor& grad_output, const Tensor& rois, const Tensor& argmax,
                         const std::vector<int64_t>& input_size);

}  // namespace osprey::ops
