// Fashion-scenes test fixtures: items that need no Fashion-MNIST files.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "data/fashion_scenes/scene_composer.h"

namespace osprey::data::fashion_scenes::testing {

// Ten synthetic 28×28 items: an ellipse of intensity 230 fading to 0 at its rim, label = index.
struct SyntheticItems {
  std::vector<uint8_t> images;
  std::vector<int64_t> labels;
  SyntheticItems() {
    for (int k = 0; k < 10; ++k) {
      const double rx = 6 + k, ry = 13 - 0.5 * k;
      for (int y = 0; y < 28; ++y) {
        for (int x = 0; x < 28; ++x) {
          const double d = std::hypot((x - 13.5) / rx, (y - 13.5) / ry);
          images.push_back(static_cast<uint8_t>(d < 1 ? 230 * (1 - d * d) : 0));
        }
      }
      labels.push_back(k);
    }
  }
  ItemSource source() const { return {images.data(), labels.data(), 10}; }
};

}  // namespace osprey::data::fashion_scenes::testing
