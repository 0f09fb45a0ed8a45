#include "data/sniper/test_plan.h"

#include "data/sniper/scale.h"
#include "ops/common/box_geometry.h"

namespace osprey::data::sniper {

std::vector<TestScalePlan> test_plan(int width, int height, const SniperConfig& config) {
  validate(config);
  std::vector<TestScalePlan> plan;
  for (size_t i = 0; i < config.test_scales.size(); ++i) {
    const ScaleSpec& spec = config.test_scales[i];
    TestScalePlan p;
    p.scale_index = static_cast<int>(i);
    p.factor = scale_factor(spec, width, height);
    const ScaledSize size = scaled_size(width, height, p.factor);
    p.width = size.width;
    p.height = size.height;
    if (spec.factor > 0) {
      p.canvas_width = size.width;
      p.canvas_height = size.height;
    } else {
      const int short_side = spec.short_side > 0 ? spec.short_side : spec.long_side;
      p.canvas_width = width >= height ? spec.long_side : short_side;
      p.canvas_height = width >= height ? short_side : spec.long_side;
    }
    p.range = config.test_valid_ranges[i];
    plan.push_back(p);
  }
  return plan;
}

bool keep_test_detection(const Box& box, const ValidRange& range) {
  const double area = ops::box::area(box.data(), 0.0);
  if (range.lo > 0 && !(area > range.lo * range.lo)) return false;
  if (range.hi > 0 && !(area <= range.hi * range.hi)) return false;
  return true;
}

std::vector<int> test_detections_in_range(const std::vector<Box>& boxes, const ValidRange& range,
                                          bool keep_all_when_none) {
  std::vector<int> kept;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (keep_test_detection(boxes[i], range)) kept.push_back(static_cast<int>(i));
  }
  if (kept.empty() && keep_all_when_none) {
    for (size_t i = 0; i < boxes.size(); ++i) kept.push_back(static_cast<int>(i));
  }
  return kept;
}

}  // namespace osprey::data::sniper
