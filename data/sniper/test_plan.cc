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
  const double area = ops::box::area(box.data(), 1.0);
  if (range.lo > 0 && !(area > range.lo * range.lo)) return false;
  if (range.hi > 0 && !(area <= range.hi * range.hi)) return false;
  return true;
}

}  // namespace osprey::data::sniper
