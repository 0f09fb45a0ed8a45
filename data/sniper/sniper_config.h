// Every number of SNIPER's chip pipeline (Singh, Najibi, Davis, "SNIPER: Efficient Multi-Scale
// Training", NeurIPS 2018), with the defaults of the authors' code (mahyarnajibi/SNIPER master,
// configs/faster/sniper_res101_e2e_pascal_voc.yml, lib/data_utils/data_workers.py). Where the code
// and the paper disagree the code wins (chip stride 56..59, not 32; the size cap
// m < (C − S − 1)/s; at most 2 negative chips per image; the >25 / >10 proposal thresholds);
// see /work/shared/reference/sniper-and-dcn.md §2.1–2.3 and §2.7.
//
// Sizes are in pixels. A valid range bound of −1 means "no bound" on that side.
#pragma once

#include <cstdint>
#include <vector>

namespace osprey::data::sniper {

// sqrt(area) bounds of the boxes a scale is responsible for, in ORIGINAL image pixels.
struct ValidRange {
  double lo = -1;  // −1: no lower bound
  double hi = -1;  // −1: no upper bound
};

// How one scale's factor s is computed from the original image size W×H.
//   factor > 0:           s = factor (SNIPER's "factor mode", e.g. 3.0 and 1.667 for COCO)
//   otherwise, resolution (short_side, long_side):
//     s = short_side / min(W, H); if long_side > 0 and round(s · max(W, H)) > long_side,
//     s = long_side / max(W, H); short_side ≤ 0: s = long_side / max(W, H)
//     (chip_worker.chip_extractor; the coarsest scale of the code's factor mode, e.g. 512.0, is
//     (−1, 512) here).
struct ScaleSpec {
  double factor = 0;
  int short_side = -1;
  int long_side = -1;
};

struct SniperConfig {
  int chip_size = 512;  // C: chips are C×C pixels at their scale
  // Chip stride S, drawn uniformly from [stride_min, stride_max] once per epoch (the code's
  // np.random.randint(56, 60)); stride_min == stride_max fixes it.
  int stride_min = 56;
  int stride_max = 59;

  // Training scales, finest first, and the valid range of each (same length).
  std::vector<ScaleSpec> scales = {{0, 1400, 2000}, {0, 800, 1280}, {0, -1, 512}};
  std::vector<ValidRange> valid_ranges = {{-1, 80}, {32, 150}, {120, -1}};
  // Boxes of the finest scale must be at least this wide and high (original pixels, w =
  // int(x2−x1)).
  int min_box_side = 2;

  // Negative chips (mined from proposals that no positive chip covers).
  bool use_negative_chips = true;
  int neg_min_proposals_finest =
      25;  // keep a scale-0 negative chip iff it holds MORE boxes than this
  int neg_min_proposals_other = 10;  // ... at any other scale
  int neg_chips_per_image = 2;       // sampled per image per epoch

  // Chips per batch (all devices together): an epoch's chip list is padded to a multiple of it.
  int batch_size = 16;

  // Test-time multi-scale plan (whole images, not chips): scales, and the range of detections each
  // scale keeps (area > lo² and ≤ hi², see test_plan.h).
  std::vector<ScaleSpec> test_scales = {{0, 1400, 2000}, {0, 800, 1280}, {0, 480, 512}};
  std::vector<ValidRange> test_valid_ranges = {{-1, 90}, {32, 180}, {75, -1}};
};

// The COCO recipe's factor mode: (3.0, 1.667, 512 / max side); `main_train.py` forces it for COCO.
inline std::vector<ScaleSpec> coco_factor_scales() {
  return {{3.0, -1, -1}, {1.667, -1, -1}, {0, -1, 512}};
}

// Checks lengths and values; errors name the field.
void validate(const SniperConfig& config);

}  // namespace osprey::data::sniper
