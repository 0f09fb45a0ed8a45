// RoIAlign (Mask R-CNN; torchvision.ops.roi_align's names and semantics) and its gradient as ops.
//
//   roi_align(input, rois; output_size, spatial_scale=1, sampling_ratio=-1, aligned=false)
//     input N × C × H × W (NCHW or channels-last), rois K × 5 rows (batch_index, x1, y1, x2, y2)
//     in input-image pixels (ops/common/roi_check.h: finite, batch index an integer in [0, N),
//     x1 <= x2, y1 <= y2; same dtype as input), output_size (PH, PW) or one size.
//     output K × C × PH × PW; channels-last when input is, else NCHW.
//   For RoI k on image n = rois[k, 0], with o = 0.5 if aligned else 0:
//     x1' = x1·spatial_scale − o, x2' = x2·spatial_scale − o (likewise y), w = x2' − x1',
//     h = y2' − y1' (aligned = false: w, h at least 1, the legacy rule), bin_w = w / PW,
//     bin_h = h / PH, grid gh × gw = sampling_ratio × sampling_ratio when sampling_ratio > 0,
//     else ceil(bin_h) × ceil(bin_w) (adaptive; 0 samples for an empty aligned RoI give 0);
//     out[k, c, i, j] = 1/(gh·gw) Σ_{a<gh, b<gw} B(input[n, c]; y1' + i·bin_h + (a + ½)·bin_h/gh,
//                                                                x1' + j·bin_w + (b + ½)·bin_w/gw)
//   B is bilinear interpolation with torchvision's edge rule: 0 when y < −1, y > H, x < −1 or
//   x > W; else y (x) below 0 is moved to 0, and from the last row (column) on the sample is that
//   row (column). B is linear in the input, so
//     grad_input[n, c, r, q] = Σ_{k on image n} Σ_{i, j} g[k, c, i, j] · Wk(i, j; r, q)
//   with Wk the interpolation weights above (the adjoint of the forward map). rois get no
//   gradient (as in torchvision). The gradient is an op of its own, roi_align_backward, whose
//   own gradient (with respect to grad_output) is roi_align again.
// Kernels: cpu/reference (direct loops in double); cpu/fast (per-RoI separable weight tables
// reused over channel blocks, NHWC inner loop, AVX-512 when the CPU has it, OpenMP; its backward is
// deterministic: each image's channel block is owned by one thread, which adds RoIs in order);
// roi_align_backward cpu/gather (the CUDA backward's algorithm on the host); cuda/direct forward
// and cuda/gather backward (per input pixel over its image's RoIs in order: deterministic, no
// atomics).
#pragma once

#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

Tensor roi_align(const Tensor& input, const Tensor& rois, const std::vector<int64_t>& output_size,
                 double spatial_scale = 1.0, int64_t sampling_ratio = -1, bool aligned = false);

// grad_output K × C × PH × PW → grad_input of input_size (N, C, H, W); channels-last when
// grad_output is.
Tensor roi_align_backward(const Tensor& grad_output, const Tensor& rois,
                          const std::vector<int64_t>& input_size,
                          const std::vector<int64_t>& output_size, double spatial_scale,
                          int64_t sampling_ratio, bool aligned);

}  // namespace osprey::ops
