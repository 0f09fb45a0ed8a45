// Deformable RoI pooling as in SNIPER's RCNN head: SNIPER-mxnet's DeformablePSROIPooling with
// group_size = 1 (every output channel pools its own input channel, output_dim = channels),
// one (class-agnostic) offset field per RoI, part_size = the pooled size.
//
// Inputs: input (N, C, H, W); rois (K, 5) rows (batch_index, x1, y1, x2, y2) in image pixels
// (SNIPER's inclusive "+1" convention), same dtype as input; offset (K, 2, ph, pw), optional
// (absent = all zero: pass 1 of SNIPER's head). Output (K, C, ph, pw). Attributes: output_size
// (ph, pw; default 7 x 7), spatial_scale (default 1/16), sample_per_part (S, default 4), trans_std
// (default 0.1).
//
// For RoI k and bin (i, j), following deformable_psroi_pooling.cu:
//   start = round(x1)·scale − 0.5,  end = (round(x2) + 1)·scale − 0.5   (and likewise for y)
//   roi_w = max(end − start, 0.1),  bin_w = roi_w / pw,  sub_w = bin_w / S
//   tx = offset[k, 0, i, j]·trans_std,  ty = offset[k, 1, i, j]·trans_std
//        (channel 0 is x, channel 1 is y — the opposite of deform_conv2d's (Δy, Δx) order)
//   wstart = j·bin_w + start_w + tx·roi_w,  hstart = i·bin_h + start_h + ty·roi_h
//   samples at (hstart + a·sub_h, wstart + b·sub_w), a, b = 0 .. S − 1 (the bin's corner and its
//        S × S grid, not sub-bin centres)
//   a sample with w outside [−0.5, W − 0.5] or h outside [−0.5, H − 0.5] is skipped; the others
//        are clamped to [0, W − 1] × [0, H − 1] and read bilinearly from channel c of image
//        batch_index (corners (floor, floor + 1), the second one clamped to the last row/column,
//        which gives the same values as the original's (floor, ceil))
//   output[k, c, i, j] = the mean over the valid samples (0 when none is valid).
// round() is std::round (halves away from zero), as in the original. Positions and sums are
// computed in the storage type (f32 or f64), as the original does in its DType.
//
// Gradients. input: each valid sample scatters grad_output[k, c, i, j] / count with its four
// bilinear weights. offset: through the sample positions, d w / d tx = trans_std·roi_w:
//   grad_offset[k, 0, i, j] = trans_std·roi_w · Σ_c Σ_valid samples grad_output[k, c, i, j] /
//                             count · ∂value/∂w
// (and channel 1 with roi_h and ∂value/∂h), where ∂value/∂w is the slope of the bilinear
// interpolation and 0 along a coordinate that was clamped (w in [−0.5, 0) or (W − 1, W − 0.5]):
// the exact derivative of the forward, where SNIPER-mxnet uses the unclamped slope there. Only
// samples within half a pixel outside the map differ. At an integer position the slope is the
// one towards floor + 1 (the original's (floor, ceil) corners coincide there and give 0); a
// measure-zero set that random offsets do not hit. Which samples are valid (the count) is
// piecewise constant in the offsets and carries no gradient. rois are not differentiable
// (round() makes the box piecewise constant). Without an offset input, the backward op still
// returns grad_offset (K, 2, ph, pw), all zero (zero offsets put samples on the bilinear kinks
// at integer positions, where the slope is one-sided, so no gradient is invented there).
//
// The derivative is the op deformable_roi_pool_backward(grad_output, input, rois, offset?; same
// attrs) -> (grad_input, grad_offset); it is not differentiable itself (no double backward).
// CUDA: the backward is deterministic — no floating-point atomics. Every valid sample's four
// bilinear corners are listed per input pixel in the reference's (RoI, bin, sample) order (a
// stable radix sort on the device, cuda/native; or a counting sort on the host from copies of the
// rois and offsets, cuda/host_lists), and each input-gradient element gathers its pixel's list;
// each offset gradient is one thread's sum over channels and samples.
//
// Argument errors (each names the op and the argument): input not 4-d, rois not (K, 5), a
// batch index not an integer in [0, N), non-finite coordinates, x2 < x1 or y2 < y1, offset not
// (K, 2, ph, pw), mismatched dtypes, output_size / sample_per_part not positive, spatial_scale or
// trans_std not finite (spatial_scale > 0). The checks read the rois on the host (a device copy
// of K x 5 values for CUDA inputs).
#pragma once

#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct DeformableRoiPoolOptions {
  std::vector<int64_t> output_size = {7, 7};
  double spatial_scale = 1.0 / 16;
  int64_t sample_per_part = 4;
  double trans_std = 0.1;
};

struct DeformableRoiPoolGrads {
  Tensor input, offset;
};

Tensor deformable_roi_pool(const Tensor& input, const Tensor& rois, const Tensor& offset = {},
                           const DeformableRoiPoolOptions& options = {});
DeformableRoiPoolGrads deformable_roi_pool_backward(const Tensor& grad_output, const Tensor& input,
                                                    const Tensor& rois, const Tensor& offset,
                                                    const DeformableRoiPoolOptions& options = {});

}  // namespace osprey::ops
