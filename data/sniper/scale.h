// Scale factors of SNIPER's scales (sniper_config.h: ScaleSpec) and the size of an image at a
// scale.
#pragma once

#include "data/sniper/sniper_config.h"

namespace osprey::data::sniper {

// The factor s of `spec` for an original image of width × height pixels.
double scale_factor(const ScaleSpec& spec, int width, int height);

// The scaled image size: (int(W · s), int(H · s)) as in the code (truncation).
struct ScaledSize {
  int width = 0;
  int height = 0;
};
ScaledSize scaled_size(int width, int height, double s);

}  // namespace osprey::data::sniper
