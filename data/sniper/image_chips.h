// The chips of one image in one epoch (SNIPER's chip_worker.chip_extractor and box_assigner,
// lib/data_utils/data_workers.py): positive chips that cover the ground truth of each scale, the
// assignment of boxes to chips, and negative chips mined from proposals that no positive chip
// covers. Everything here is a pure function of (image, config, seed, image index, epoch).
//
// Box statistics are taken in ORIGINAL pixels as the code does: w = int(x2 − x1), h = int(y2 − y1)
// (no +1), a = sqrt(w·h), m = max(w, h). With S the epoch's stride, s_i the factor of scale i and
// cap_i = (C − S − 1) / s_i (SNIPER issue #35: the box fits in a strided chip):
//   ground truth that drives the positive chips of scale i (chip_worker.chip_extractor):
//     finest (i = 0, not the only scale): a < hi_0, m < cap_0, w, h ≥ min_box_side (no lower bound)
//     intermediate: lo_i ≤ a < hi_i, m < cap_i
//     coarsest (or only) scale: a ≥ lo_i (no upper bound, no cap)
//   assignment-valid boxes of scale i (box_assigner; ground truth AND proposals): non-last scales
//     a < hi_i, m < cap_i, w, h ≥ min_box_side (no lower bound); the last scale a ≥ lo_i.
// Each assignment-valid box goes to the positive chip of its scale that contains most of it (first
// maximum in chip order) and is kept there when the box clipped to the chip has w, h ≥ 1 and
// sqrt((x2−x1)(y2−y1)) ≤ hi_i (non-last) or ≥ lo_i (last), again without +1. Kept ground truth is
// the chip's valid set (`gt_ids`, SNIPER's props_in_chips ∩ ground truth); every kept box, ground
// truth or proposal, is "covered".
//
// Negative chips, per scale: the assignment-valid boxes not covered are covered by the same
// generator; each goes to the negative chip that contains most of it and counts there under the
// same rule but with a strict upper bound (a < hi_i, as in the code); a negative chip is kept when
// it holds more than neg_min_proposals_finest boxes (scale 0) or neg_min_proposals_other (other
// scales). A negative chip's valid set is the ground truth among the boxes it counted (the code
// keeps neg_props_in_chips and intersects it with the ground truth when labelling anchors); other
// ground truth reaching into it is invalid (ignored) for the targets.
//
// Unlike the code, boxes are clipped to the scaled image before chips are generated: with s < 2,
// int(W·s) − 1 can be smaller than (W − 1)·s, and an unclipped box at the image's right or bottom
// edge would fit in no chip.
//
// Boxes are inclusive pixels (+1 convention); `from_annotated` converts the continuous boxes of
// `AnnotatedImage` (x2 − 1, y2 − 1) and, like SNIPER's VOC roidb (use_diff = False), leaves out
// difficult objects unless asked to keep them; `object_ids` maps ground truth back to objects.
#pragma once

#include <cstdint>
#include <vector>

#include "data/detection/annotation.h"
#include "data/sniper/chip_generator.h"
#include "data/sniper/sniper_config.h"

namespace osprey::data::sniper {

struct SniperImage {
  int width = 0;
  int height = 0;
  std::vector<Box> gt;          // ground-truth boxes, original pixels
  std::vector<Box> proposals;   // RPN proposals for negative mining (may be empty)
  std::vector<int> object_ids;  // from_annotated: the AnnotatedImage object of each gt box
};

SniperImage from_annotated(const AnnotatedImage& image, const std::vector<Box>& proposals = {},
                           bool keep_difficult = false);

struct Chip {
  Box box{};            // original-image pixels (the scaled chip divided by the factor)
  double scale = 1;     // factor s: the chip is cropped from the image resized by s
  int scale_index = 0;  // index into SniperConfig::scales
  // Size of the chip's pixels at its scale: C×C, or for the last scale the whole scaled image
  // (W′, H′) (which the loader pads to C×C).
  int width = 0;
  int height = 0;
  bool negative = false;
  std::vector<int> gt_ids;  // the valid ground truth of the chip (SNIPER's props_in_chips ∩ gt)
  int proposal_count = 0;   // negative chips: boxes (proposals and uncovered gt) counted in it
};

struct ImageChips {
  std::vector<Chip> positive;
  std::vector<Chip> negative;
};

// Per-box statistics as the code computes them.
struct BoxStats {
  int w = 0, h = 0;
  double sqrt_area = 0;
  int max_side = 0;
};
BoxStats box_stats(const Box& box);

bool drives_positive_chip(const BoxStats& b, int scale_index, double factor, int stride,
                          const SniperConfig& config);
bool valid_for_assignment(const BoxStats& b, int scale_index, double factor, int stride,
                          const SniperConfig& config);

// The chips of `image` (index `image_index` of the dataset) in `epoch`, with chip stride `stride`.
ImageChips image_chips(const SniperImage& image, const SniperConfig& config, int stride,
                       uint64_t seed, int64_t image_index, int64_t epoch);

}  // namespace osprey::data::sniper
