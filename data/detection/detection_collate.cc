#include "data/detection/detection_collate.h"

#include <algorithm>
#include <cstring>

#include "framework/core/error.h"

namespace osprey::data {

DetectionBatch collate_detection(const std::vector<DetectionResult>& samples,
                                 const std::vector<int64_t>& indices, int pad_multiple,
                                 float pad_value) {
  OSPREY_CHECK(!samples.empty() && samples.size() == indices.size(),
               "collate_detection: {} samples with {} indices (need at least one)", samples.size(),
               indices.size());
  const int64_t batch = static_cast<int64_t>(samples.size());
  const bool masks = samples[0].mask.defined();
  int64_t height = 0, width = 0, most = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const DetectionResult& s = samples[i];
    OSPREY_CHECK_KIND(shape, s.image.dim() == 3 && s.image.size(0) == 3,
                      "collate_detection: sample {} (dataset index {}) has image {}, expected "
                      "3×H×W",
                      i, indices[i], shape_str(s.image.shape()));
    OSPREY_CHECK(s.mask.defined() == masks,
                 "collate_detection: sample {} (dataset index {}) {} but sample 0 {}", i,
                 indices[i], s.mask.defined() ? "has a mask" : "has no mask",
                 masks ? "has one" : "has none");
    height = std::max(height, s.image.size(1));
    width = std::max(width, s.image.size(2));
    most = std::max(most, static_cast<int64_t>(s.objects.size()));
  }
  if (pad_multiple > 1) {
    height = (height + pad_multiple - 1) / pad_multiple * pad_multiple;
    width = (width + pad_multiple - 1) / pad_multiple * pad_multiple;
  }
  DetectionBatch out;
  out.images = Tensor::empty({batch, 3, height, width}, DType::f32);
  out.image_sizes = Tensor::empty({batch, 2}, DType::i64);
  out.boxes = Tensor::empty({batch, most, 4}, DType::f32);
  out.classes = Tensor::empty({batch, most}, DType::i64);
  out.difficult = Tensor::empty({batch, most}, DType::u8);
  out.counts = Tensor::empty({batch}, DType::i64);
  out.indices = Tensor::empty({batch}, DType::i64);
  if (masks) out.masks = Tensor::empty({batch, height, width}, DType::u8);
  float* images = out.images.data<float>();
  std::fill(images, images + out.images.numel(), pad_value);
  float* boxes = out.boxes.data<float>();
  std::fill(boxes, boxes + out.boxes.numel(), 0.0f);
  int64_t* classes = out.classes.data<int64_t>();
  std::fill(classes, classes + out.classes.numel(), int64_t{-1});
  uint8_t* difficult = out.difficult.data<uint8_t>();
  std::fill(difficult, difficult + out.difficult.numel(), uint8_t{0});
  uint8_t* mask_data = masks ? out.masks.data<uint8_t>() : nullptr;
  if (masks) std::fill(mask_data, mask_data + out.masks.numel(), uint8_t{255});
  for (int64_t b = 0; b < batch; ++b) {
    const DetectionResult& s = samples[static_cast<size_t>(b)];
    // The sample's own tensors are already padded (the transform's pad); copy all of them.
    const int64_t h = s.image.size(1), w = s.image.size(2);
    const float* src = s.image.data<float>();
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < h; ++y) {
        std::memcpy(images + ((b * 3 + c) * height + y) * width, src + (c * h + y) * w,
                    sizeof(float) * static_cast<size_t>(w));
      }
    }
    if (masks) {
      const uint8_t* m = s.mask.data<uint8_t>();
      for (int64_t y = 0; y < s.mask.size(0); ++y) {
        std::memcpy(mask_data + (b * height + y) * width, m + y * s.mask.size(1),
                    static_cast<size_t>(s.mask.size(1)));
      }
    }
    out.image_sizes.data<int64_t>()[2 * b] = s.valid_height;
    out.image_sizes.data<int64_t>()[2 * b + 1] = s.valid_width;
    for (size_t k = 0; k < s.objects.size(); ++k) {
      const Object& o = s.objects[k];
      std::copy(o.box.begin(), o.box.end(), boxes + (b * most + static_cast<int64_t>(k)) * 4);
      classes[b * most + static_cast<int64_t>(k)] = o.class_id;
      difficult[b * most + static_cast<int64_t>(k)] = o.difficult ? 1 : 0;
    }
    out.counts.data<int64_t>()[b] = static_cast<int64_t>(s.objects.size());
    out.indices.data<int64_t>()[b] = indices[static_cast<size_t>(b)];
    out.dropped += s.dropped;
    out.clipped += s.clipped;
  }
  return out;
}

}  // namespace osprey::data
