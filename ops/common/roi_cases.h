// RoI lists for the case lists of the RoI ops (roi_align, roi_pool): K random boxes over N images
// of H × W feature pixels, in input-image pixels (feature pixels / spatial_scale). Boxes reach up
// to `outside` feature pixels over each edge of the map, so the edge rules are exercised; batch
// indices are drawn in random order (kernels must not assume sorted RoIs).
#pragma once

#include "framework/core/tensor.h"
#include "ops/common/case_helpers.h"

namespace osprey::ops {

Tensor case_rois(CaseRandom& rng, int64_t rois, int64_t batch, int64_t height, int64_t width,
                 double spatial_scale, DType dtype, double outside = 1.5);

}  // namespace osprey::ops
