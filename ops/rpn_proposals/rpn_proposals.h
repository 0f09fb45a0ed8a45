// RPN proposals for a batch of images sharing one anchor set (SNIPER-mxnet's
// multi_proposal_target first half, py-faster-rcnn's proposal_layer).
//
//   rpn_proposals(scores (N, A), deltas (N, A, 4), anchors (A, 4), image_sizes (N, 2),
//                 valid_ranges (N, 2) = none;
//                 pre_nms_top_n=0, post_nms_top_n=300, nms_iou=0.7, min_size=3,
//                 valid_range_lo=0, valid_range_hi=-1, legacy_plus_one=false)
//       -> rois (N, P, 4), roi_scores (N, P), count (N) i64        with P = post_nms_top_n
//
// Per image b (image_sizes[b] = (height, width)), for every anchor a:
//   1. box = decode(anchors[a], deltas[b, a]) with weights (1, 1, 1, 1) (dw, dh clipped at
//      log(1000 / 16)), clipped to the image (ops/common/box_geometry.h);
//   2. dropped when its width or height is below min_size (or x2 < x1, which the +1 convention
//      gives boxes under 1 px). SNIPER's multi_proposal_target invalidates only boxes below 3 px
//      in both sides; py-faster-rcnn (and this op) drop a box when either side is small;
//   3. score = scores[b, a] (an objectness probability), or −1 when a range applies (hi > 0) and
//      the box area is outside [lo², hi²) (SNIPER's valid-range filter: such boxes rank below
//      every box in range but are still proposals); (lo, hi) = valid_ranges[b] when given, else
//      the valid_range_lo/hi attributes;
//   4. the remaining boxes ordered by decreasing score (ties: lower anchor index first), the first
//      pre_nms_top_n kept (0 = all, as SNIPER's multi_proposal_target);
//   5. greedy NMS at IoU > nms_iou (ops/nms/nms.h semantics). cpu/reference calls the `nms` op per
//      image; cuda/device (and its host mirror cpu/segmented) runs ONE segmented bitmask NMS over
//      all images (ops/nms/segmented_nms.h: one mask launch, one scan launch with a block per
//      image), with no host round trip between the steps;
//   6. the first post_nms_top_n survivors, by decreasing score.
// Output layout: image b's proposals are rois[b, :count[b]] with their scores in
// roi_scores[b, :count[b]], best first; rows count[b] .. P − 1 are padding (zero boxes, score 0).
// This is the layout proposal_targets takes (rois, roi_count); on CUDA `count` is computed and kept
// on the device. A NaN score or delta is an argument error (found while decoding). For CUDA inputs
// the value checks of anchors, image sizes and valid ranges also run on the device: the call reads
// back one 8-byte flag word, once, after all its kernels are queued, and reports the same errors
// as a CPU call. Outputs are not
// differentiable. f32 and f64.
#pragma once

#include "framework/core/tensor.h"

namespace osprey::ops {

struct RpnProposalOptions {
  int64_t pre_nms_top_n = 0;  // 0: every anchor
  int64_t post_nms_top_n = 300;
  double nms_iou = 0.7;
  double min_size = 3;
  double valid_range_lo = 0;   // sqrt-area bounds of SNIPER's valid range
  double valid_range_hi = -1;  // <= 0: no range filter
  bool legacy_plus_one = false;
};

struct RpnProposals {
  Tensor rois;        // (N, P, 4)
  Tensor roi_scores;  // (N, P)
  Tensor count;       // (N) i64
};

// valid_ranges (N, 2), optional: image b's own (lo, hi) instead of the attributes' (SNIPER's chips
// in one batch come from different scales, each with its range × scale).
RpnProposals rpn_proposals(const Tensor& scores, const Tensor& deltas, const Tensor& anchors,
                           const Tensor& image_sizes, const RpnProposalOptions& options = {},
                           const Tensor& valid_ranges = Tensor());

}  // namespace osprey::ops
