// Soft-NMS (Bodla et al. 2017), as SNIPER's lib/nms/cpu_nms.pyx `cpu_soft_nms` runs it.
//
//   soft_nms(boxes [N, 4], scores [N]; method="gaussian", sigma=0.5, iou_threshold=0.3,
//            score_threshold=0.001, legacy_plus_one=false) -> (keep i64 [K], new_scores [K])
//
// For i = 0, 1, ...: the box of highest current score among positions i..N-1 (the first such
// position on ties) is swapped into position i and selected; every later box b that overlaps it
// (positive intersection) has its score multiplied by
//   gaussian: exp(-IoU^2 / sigma)
//   linear:   1 - IoU if IoU > iou_threshold, else 1
//   hard:     0 if IoU > iou_threshold, else 1 (plain NMS)
// and a box whose new score falls below score_threshold is dropped by swapping the last
// remaining box into its place (N shrinks). `keep` lists the selected boxes' input indices in
// selection order and `new_scores` their decayed scores. This positional swapping is the
// reference's, reproduced exactly, so ties and order match SNIPER's output; as there, a box whose
// input score is already below score_threshold is dropped only once an overlap decays it.
// SNIPER's inference: method gaussian, sigma 0.55, score_threshold 0.001, legacy_plus_one true.
// Not differentiable (both outputs are marked so). Zero boxes give empty outputs.
#pragma once

#include <string>
#include <utility>

#include "framework/core/tensor.h"

namespace osprey::ops {

struct SoftNmsOptions {
  std::string method = "gaussian";  // "gaussian", "linear" or "hard"
  double sigma = 0.5;
  double iou_threshold = 0.3;  // linear and hard only
  double score_threshold = 0.001;
  bool legacy_plus_one = false;
};

std::pair<Tensor, Tensor> soft_nms(const Tensor& boxes, const Tensor& scores,
                                   const SoftNmsOptions& options = {});

}  // namespace osprey::ops
