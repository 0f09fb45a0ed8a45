// The normalisation of an 8-bit detection batch (DetectionTransformConfig::u8_images), done after
// the loader as framework ops so that it runs where the batch is — on the GPU when the loader
// uploaded it there — instead of on the loader's CPU threads. The loader then moves a quarter of
// the bytes and skips the per-pixel float work (issue 5, loader speed).
#pragma once

#include <vector>

#include "data/detection/detection_transform.h"
#include "framework/core/tensor.h"

namespace osprey::data {

// `images`: u8 B×3×H×W in RGB order. Returns the f32 B×3×H×W batch the f32 mode gives:
// value = (v · value_scale − mean[c]) / std[c], in BGR order when `bgr` (mean/std given in the
// output order; one value or none as in DetectionTransformConfig). With `image_sizes` (i64 B×2,
// the batch's (height, width), on the images' device) everything outside each image's valid area
// becomes pad_value; without it the padding is normalised like a pixel of value 0.
// Ops used: cast, index_select (bgr), mul/sub with broadcasting, arange/lt for the padding mask.
Tensor normalise_batch(const Tensor& images, const std::vector<float>& mean,
                       const std::vector<float>& std, bool bgr, float value_scale = 1.0f,
                       const Tensor& image_sizes = Tensor(), float pad_value = 0.0f);

// The same with the normalisation of `config` (bgr, value_scale, mean, std, pad_value).
Tensor normalise_batch(const Tensor& images, const DetectionTransformConfig& config,
                       const Tensor& image_sizes);

}  // namespace osprey::data
