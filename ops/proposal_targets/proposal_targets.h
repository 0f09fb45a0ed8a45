// RCNN training targets: RoIs (RPN proposals) plus ground truth, labelled by IoU, optionally
// subsampled, with regression targets (SNIPER-mxnet's multi_proposal_target, py-faster-rcnn's
// proposal_target_layer, and the OpenImages soft sampling and group-of ignores of SNIPER's
// `openimages2` branch).
//
//   proposal_targets(rois (N, R, 4), roi_count (N) i64, gt_boxes (N, G, 4), gt_classes (N, G) i64,
//                    gt_count (N) i64, gt_group_of (N, G) bool = none,
//                    gt_insert_ranges (N, 2) = none;
//                    gt_mode="replace_last", fg_iou=0.5, bg_iou_lo=0, batch_size=-1,
//                    fg_fraction=0.25, num_classes=0, class_agnostic=true,
//                    delta_weights=(10,10,5,5), gt_insert_range_lo=0, gt_insert_range_hi=-1,
//                    soft_sampling=false, group_of_iof=0.9,
//                    legacy_plus_one=false, seed, offset)
//       -> rois (N, S, 4), labels (N, S) i64, label_weights (N, S), bbox_targets (N, S, K),
//          bbox_weights (N, S, K), count (N) i64
//
// Inputs are padded per image: image b has roi_count[b] RoIs in rois[b, :roi_count[b]] (the layout
// rpn_proposals produces) and gt_count[b] gts in gt_boxes[b, :gt_count[b]] with classes >= 1 in
// gt_classes (0 is background). gt_group_of[b, j] = true marks an OpenImages group-of box: it is
// kept apart (never labels, never inserted) and only makes RoIs ignored. The other gts are the
// "labelling gts".
//
// Candidates of image b, in this order:
//   gt_mode "replace_last" (SNIPER): the labelling gts take the last n = min(#gts, R) of the R
//     slots, so the first min(roi_count, R − n) RoIs are kept, then the gts;
//   "append": every RoI, then every labelling gt (up to R + G candidates);
//   "none": the RoIs only.
//   Only labelling gts with sqrt(area) in [gt_insert_range_lo, gt_insert_range_hi] are inserted
//   (SNIPER inserts the gts inside the chip's valid range; hi <= 0: no upper bound); every
//   labelling gt still labels. gt_insert_ranges[b] = (lo, hi), when given, replaces the attributes
//   for image b (SNIPER's chips of different scales share a batch).
// Labels: with the largest IoU m over the labelling gts (first gt on ties): the class of that gt
// when m > fg_iou (strictly, as SNIPER), else 0 when m >= bg_iou_lo, else −1 (ignored); then −1
// when the candidate's IoF (share of its area) inside some group-of gt is > group_of_iof.
// Selection: batch_size <= 0 uses every candidate in order (SNIPER uses all 300), ignored ones
// included with weight 0. batch_size > 0 keeps at most round(fg_fraction · batch_size) foreground
// candidates and fills up to batch_size with background ones, each set sampled by the Philox keys
// of ops/common/target_sampling.h (candidate c of image b is element b · (R + G) + c of the stream
// at (seed, offset), so CPU and CUDA agree); kept foreground first, then background, each in
// candidate order; ignored candidates are never sampled. Outputs, slot s < count[b] of image b: the
// candidate's box, label, and label weight (1 for foreground, 0 for ignored, for background 1 or,
// with soft_sampling, 0.25 + 0.75 · exp(−50 · exp(−20 · m)) as OpenImages' soft sampling);
// foreground slots also get the deltas onto their gt times delta_weights (box_geometry.h encode)
// with bbox_weights 1, in columns 0..3 (class_agnostic, K = 4) or 4·label .. 4·label+3 (K = 4 ·
// num_classes). Slots from count[b] to S are padding: zero boxes and targets, label −1, weights 0.
// S = batch_size if > 0, else R (+ G for "append"). Outputs are not differentiable. f32 and f64.
#pragma once

#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace osprey::ops {

struct ProposalTargetOptions {
  std::string gt_mode = "replace_last";  // or "append", "none"
  double fg_iou = 0.5;
  double bg_iou_lo = 0.0;
  int64_t batch_size = -1;  // <= 0: every candidate
  double fg_fraction = 0.25;
  int64_t num_classes = 0;  // needed for per-class targets; > 0 also checks gt_classes
  bool class_agnostic = true;
  std::vector<double> delta_weights = {10, 10, 5, 5};
  double gt_insert_range_lo = 0;   // inserted gts: sqrt(area) in [lo, hi]
  double gt_insert_range_hi = -1;  // <= 0: no upper bound
  bool soft_sampling = false;
  double group_of_iof = 0.9;
  bool legacy_plus_one = false;
};

struct ProposalTargets {
  Tensor rois, labels, label_weights, bbox_targets, bbox_weights, count;
};

// Draws the sampling position (N · (R + G) values) from `generator`.
ProposalTargets proposal_targets(const Tensor& rois, const Tensor& roi_count,
                                 const Tensor& gt_boxes, const Tensor& gt_classes,
                                 const Tensor& gt_count, const Tensor& gt_group_of = Tensor(),
                                 const ProposalTargetOptions& options = {},
                                 random::Generator& generator = random::default_generator(),
                                 const Tensor& gt_insert_ranges = Tensor());

}  // namespace osprey::ops
