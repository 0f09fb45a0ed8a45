// RoI lists shared by the RoI ops (roi_align, roi_pool): the validation every one of them runs at
// its boundary, and the grouping of RoIs by image that their deterministic backward kernels use.
//
// rois is K × 5, one row (batch_index, x1, y1, x2, y2) per RoI in input-image pixels (the
// feature map's pixels times 1 / spatial_scale), of the feature map's floating dtype; K may be 0.
// Every value must be finite, batch_index an integer in [0, N) for a feature map of N images, and
// x1 ≤ x2, y1 ≤ y2. Values are read on the host (device RoIs are copied: K × 5 numbers), except
// in the backward ops on CUDA: their kernels copy the RoIs to the host anyway (to group them by
// image) and check that copy with check_roi_values, so validate passes values = false there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::ops {

// Throws an error naming `op`, the argument `rois`, the offending row and its values. `dtype` and
// `batch` are the feature map's; `feature_map` describes it in messages ("input f32[2, 3, 8, 8]").
// values = false: shape and dtype only (the caller checks the values with check_roi_values).
void check_rois(const Tensor& rois, DType dtype, int64_t batch, const std::string& feature_map,
                const char* op, bool values = true);
// A RoI op's forward operands: `input` a 4-d (N, C, H, W) feature map and `rois` fitting it.
void check_roi_forward_operands(const Tensor& input, const Tensor& rois, const char* op);
// A RoI backward op's input_size attribute: (N, C, H, W) with H, W > 0.
void check_roi_input_size(const Shape& input_size, const char* op);
// The value part of check_rois on RoIs already on the host (row-major K × 5).
void check_roi_values(const std::vector<double>& rois, int64_t batch,
                      const std::string& feature_map, const char* op);

// The RoIs of each image, in RoI order: ids[start[n] .. start[n + 1]) belong to image n.
struct RoisByImage {
  std::vector<int64_t> start;
  std::vector<int64_t> ids;
};
RoisByImage rois_by_image(const std::vector<double>& rois, int64_t batch);

// What the CUDA backward kernels take: the RoIs' one host copy, its values checked
// (check_roi_values), grouped by image and uploaded as i64 tensors on the RoIs' device — start
// (batch + 1) and ids (max(K, 1): never an empty allocation).
struct RoiGroupsOnDevice {
  Tensor start, ids;
};
RoiGroupsOnDevice checked_roi_groups(const Tensor& rois, int64_t batch,
                                     const std::string& feature_map, const char* op);

}  // namespace osprey::ops
