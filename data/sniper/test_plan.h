// SNIPER's test-time multi-scale plan (lib/inference.py, MNIteratorTest.py): whole images (not
// chips) at each test scale, padded to that scale's canvas, and the detections each scale keeps
// before the scales are fused with Soft-NMS: area > lo² and ≤ hi², with area = (x2 − x1)(y2 − y1)
// in original pixels (no +1, as lib/inference.py computes it; a bound ≤ 0 is no bound), defaults
// (−1,90), (32,180), (75,−1). When no detection of a class at a scale is in range, the code keeps
// them all (`cls_dets[valid_ids] if len(valid_ids) > 0 else cls_dets`); `test_detections_in_range`
// does the same unless told not to.
#pragma once

#include <vector>

#include "data/sniper/chip_generator.h"
#include "data/sniper/sniper_config.h"

namespace osprey::data::sniper {

struct TestScalePlan {
  int scale_index = 0;
  double factor = 1;
  int width = 0;  // the scaled image (int(W·s), int(H·s))
  int height = 0;
  // The canvas it is padded to: (long, short) for a landscape image, (short, long) for a portrait
  // one; factor mode and short_side −1 use the scaled image size (or long × long).
  int canvas_width = 0;
  int canvas_height = 0;
  ValidRange range;
};

std::vector<TestScalePlan> test_plan(int width, int height, const SniperConfig& config);

// True when a detection (original pixels) falls in `range`.
bool keep_test_detection(const Box& box, const ValidRange& range);

// Indices of the detections (of one class at one scale) that the scale keeps: those in `range`, or
// all of them when none is and `keep_all_when_none` (the code's behaviour).
std::vector<int> test_detections_in_range(const std::vector<Box>& boxes, const ValidRange& range,
                                          bool keep_all_when_none = true);

}  // namespace osprey::data::sniper
