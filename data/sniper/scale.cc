#include "data/sniper/scale.h"

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"

namespace osprey::data::sniper {

double scale_factor(const ScaleSpec& spec, int width, int height) {
  OSPREY_CHECK(width > 0 && height > 0, "SNIPER scale: image size must be positive, got {}x{}",
               width, height);
  if (spec.factor > 0) return spec.factor;
  const double lo = std::min(width, height), hi = std::max(width, height);
  if (spec.short_side <= 0) return spec.long_side / hi;
  double s = spec.short_side / lo;
  if (spec.long_side > 0 && std::round(s * hi) > spec.long_side) s = spec.long_side / hi;
  return s;
}

ScaledSize scaled_size(int width, int height, double s) {
  return {static_cast<int>(width * s), static_cast<int>(height * s)};
}

void validate(const SniperConfig& c) {
  OSPREY_CHECK(c.chip_size > 0, "SniperConfig.chip_size must be positive, got {}", c.chip_size);
  OSPREY_CHECK(c.stride_min > 0 && c.stride_min <= c.stride_max,
               "SniperConfig: need 0 < stride_min <= stride_max, got {} and {}", c.stride_min,
               c.stride_max);
  OSPREY_CHECK(!c.scales.empty(), "SniperConfig.scales is empty");
  OSPREY_CHECK(c.scales.size() == c.valid_ranges.size(),
               "SniperConfig: {} scales but {} valid_ranges", c.scales.size(),
               c.valid_ranges.size());
  OSPREY_CHECK(c.test_scales.size() == c.test_valid_ranges.size(),
               "SniperConfig: {} test_scales but {} test_valid_ranges", c.test_scales.size(),
               c.test_valid_ranges.size());
  auto check_scales = [](const std::vector<ScaleSpec>& scales, const char* field) {
    for (size_t i = 0; i < scales.size(); ++i) {
      const ScaleSpec& s = scales[i];
      OSPREY_CHECK(s.factor > 0 || s.long_side > 0 || s.short_side > 0,
                   "SniperConfig.{}[{}]: give factor > 0 or (short_side, long_side) with at least "
                   "one of them positive (−1: no bound); got factor {}, ({}, {})",
                   field, i, s.factor, s.short_side, s.long_side);
    }
  };
  check_scales(c.scales, "scales");
  check_scales(c.test_scales, "test_scales");
  OSPREY_CHECK(c.batch_size > 0, "SniperConfig.batch_size must be positive, got {}", c.batch_size);
  OSPREY_CHECK(c.neg_chips_per_image >= 0, "SniperConfig.neg_chips_per_image must be >= 0, got {}",
               c.neg_chips_per_image);
}

}  // namespace osprey::data::sniper
