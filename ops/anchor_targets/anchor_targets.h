// RPN training targets for a batch of images sharing one anchor set (SNIPER's anchor_worker,
// py-faster-rcnn's anchor_target_layer).
//
//   anchor_targets(anchors (A, 4), gt_boxes (N, G, 4), gt_count (N) i64, image_sizes (N, 2),
//                  gt_ignore (N, G) bool = none;
//                  positive_iou=0.5, negative_iou=0.4, ignore_iou=0.3, batch_size=256,
//                  fg_fraction=0.5, allowed_border=32, legacy_plus_one=false, seed, offset)
//       -> labels (N, A) i64, bbox_targets (N, A, 4), bbox_weights (N, A, 4)
//
// Layout: anchor a of image b is row (b, a); anchors are shared by all images (SNIPER: 21 anchors
// at every position of a 32 × 32 map, position-major as the anchor generator lays them out). Image
// b has gt_count[b] ground-truth boxes in gt_boxes[b, :gt_count[b]]; rows after that are padding
// and never read. image_sizes[b] = (height, width). gt_ignore[b, j] = true marks an "invalid" gt
// (SNIPER: a chip gt outside the chip's valid range): it never makes an anchor foreground, it only
// makes anchors it overlaps ignored.
//
// Labels (1 foreground, 0 background, −1 ignored), per image:
//   1. anchors not inside the allowed border (x1 >= −border, y1 >= −border, x2 < W + border,
//      y2 < H + border; border < 0 disables the test) are −1 and take no further part;
//   2. with IoU over the valid (not ignored) gts: 0 where max IoU < negative_iou; then 1 where the
//      anchor is a best anchor of some valid gt (its IoU with that gt equals the gt's largest IoU
//      over the inside anchors, ties all count, and that IoU is > 0); then 1 where max IoU >=
//      positive_iou (this order is py-faster-rcnn's with RPN_CLOBBER_POSITIVES off);
//   3. −1 for anchors with IoU > ignore_iou to any ignored gt (overrides 1 and 0);
//   4. sampling when batch_size > 0: at most floor(fg_fraction · batch_size) foreground anchors are
//      kept, the others become −1; then at most batch_size − (kept foreground) background anchors.
//      The kept subset is the one with the smallest Philox keys (ops/common/target_sampling.h;
//      anchor a of image b is element b · A + a of the stream at (seed, offset)), so the CPU and
//      CUDA kernels sample the same anchors for the same seed and offset.
//   With no valid gt every inside anchor is background (up to sampling and ignores).
// Regression: for foreground anchors, the unnormalised deltas (dx, dy, dw, dh) (weights 1, 1, 1, 1)
// onto the valid gt of largest IoU (the first on ties), and weights 1; zeros for every other
// anchor. Boxes use the convention of ops/common/box_geometry.h (`legacy_plus_one` = SNIPER's +1
// pixels). Outputs are not differentiable. f32 and f64; gt_count may be any integer dtype.
#pragma once

#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace osprey::ops {

struct AnchorTargetOptions {
  double positive_iou = 0.5;
  double negative_iou = 0.4;
  double ignore_iou = 0.3;
  int64_t batch_size = 256;  // <= 0: no sampling
  double fg_fraction = 0.5;
  double allowed_border = 32;  // < 0: every anchor counts as inside
  bool legacy_plus_one = false;
};

struct AnchorTargets {
  Tensor labels;        // (N, A) i64
  Tensor bbox_targets;  // (N, A, 4)
  Tensor bbox_weights;  // (N, A, 4)
};

// Draws the sampling position (N · A values) from `generator`.
AnchorTargets anchor_targets(const Tensor& anchors, const Tensor& gt_boxes, const Tensor& gt_count,
                             const Tensor& image_sizes, const Tensor& gt_ignore = Tensor(),
                             const AnchorTargetOptions& options = {},
                             random::Generator& generator = random::default_generator());

}  // namespace osprey::ops
