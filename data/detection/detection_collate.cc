#include "data/detection/detection_collate.h"

#include <algorithm>
#include <cstring>

#include "framework/core/error.h"

namespace osprey::data {

DetectionBatch allocate_detection_batch(int64_t batch, int64_t height, int64_t width, int64_t most,
                                        bool masks, HostBlockPool* pool, DType image_dtype) {
  OSPREY_CHECK(image_dtype == DType::f32 || image_dtype == DType::u8,
               "allocate_detection_batch: images must be f32 or u8, got {}",
               dtype_name(image_dtype));
  struct Part {
    Tensor* tensor;
    Shape shape;
    DType dtype;
  };
  DetectionBatch out;
  std::vector<Part> parts{{&out.images, {batch, 3, height, width}, image_dtype},
                          {&out.image_sizes, {batch, 2}, DType::i64},
                          {&out.boxes, {batch, most, 4}, DType::f32},
                          {&out.classes, {batch, most}, DType::i64},
                          {&out.difficult, {batch, most}, DType::u8},
                          {&out.counts, {batch}, DType::i64},
                          {&out.indices, {batch}, DType::i64}};
  if (masks) parts.push_back({&out.masks, {batch, height, width}, DType::u8});
  // Each tensor starts on a 64-byte boundary of the block.
  std::vector<size_t> offsets;
  size_t total = 0;
  for (const Part& p : parts) {
    offsets.push_back(total);
    total += (static_cast<size_t>(shape_numel(p.shape)) * dtype_size(p.dtype) + 63) / 64 * 64;
  }
  HostBlockPool::Block block;
  if (pool) {
    block = pool->acquire(total);
  } else {
    block.storage = std::make_shared<Storage>(total, Device::cpu());
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& p = parts[i];
    *p.tensor = Tensor::from_storage(
        block.storage, p.shape, contiguous_strides(p.shape),
        static_cast<int64_t>((block.offset + offsets[i]) / dtype_size(p.dtype)), p.dtype);
  }
  std::fill(out.boxes.data<float>(), out.boxes.data<float>() + out.boxes.numel(), 0.0f);
  std::fill(out.classes.data<int64_t>(), out.classes.data<int64_t>() + out.classes.numel(),
            int64_t{-1});
  std::fill(out.difficult.data<uint8_t>(), out.difficult.data<uint8_t>() + out.difficult.numel(),
            uint8_t{0});
  return out;
}

void write_objects(DetectionBatch& out, int64_t b, const DetectionResult& s, int64_t index) {
  const int64_t most = out.boxes.size(1);
  OSPREY_CHECK(
      b >= 0 && b < out.counts.numel() && static_cast<int64_t>(s.objects.size()) <= most,
      "write_objects: image {} with {} objects does not fit a batch of {} with room for {}", b,
      s.objects.size(), out.counts.numel(), most);
  out.image_sizes.data<int64_t>()[2 * b] = s.valid_height;
  out.image_sizes.data<int64_t>()[2 * b + 1] = s.valid_width;
  float* boxes = out.boxes.data<float>();
  int64_t* classes = out.classes.data<int64_t>();
  uint8_t* difficult = out.difficult.data<uint8_t>();
  for (size_t k = 0; k < s.objects.size(); ++k) {
    const Object& o = s.objects[k];
    std::copy(o.box.begin(), o.box.end(), boxes + (b * most + static_cast<int64_t>(k)) * 4);
    classes[b * most + static_cast<int64_t>(k)] = o.class_id;
    difficult[b * most + static_cast<int64_t>(k)] = o.difficult ? 1 : 0;
  }
  out.counts.data<int64_t>()[b] = static_cast<int64_t>(s.objects.size());
  out.indices.data<int64_t>()[b] = index;
  out.dropped += s.dropped;
  out.clipped += s.clipped;
}

std::vector<Tensor*> batch_tensors(DetectionBatch& batch) {
  std::vector<Tensor*> tensors{&batch.images,    &batch.image_sizes, &batch.boxes,  &batch.classes,
                               &batch.difficult, &batch.counts,      &batch.indices};
  if (batch.masks.defined()) tensors.push_back(&batch.masks);
  return tensors;
}

DetectionBatch collate_detection(const std::vector<DetectionResult>& samples,
                                 const std::vector<int64_t>& indices, int pad_multiple,
                                 float pad_value, HostBlockPool* pool) {
  OSPREY_CHECK(!samples.empty() && samples.size() == indices.size(),
               "collate_detection: {} samples with {} indices (need at least one)", samples.size(),
               indices.size());
  const int64_t batch = static_cast<int64_t>(samples.size());
  const bool masks = samples[0].mask.defined();
  const DType dtype = samples[0].image.dtype();
  int64_t height = 0, width = 0, most = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const DetectionResult& s = samples[i];
    OSPREY_CHECK_KIND(shape, s.image.dim() == 3 && s.image.size(0) == 3,
                      "collate_detection: sample {} (dataset index {}) has image {}, expected "
                      "3×H×W",
                      i, indices[i], shape_str(s.image.shape()));
    OSPREY_CHECK_KIND(dtype,
                      s.image.dtype() == dtype && (dtype == DType::f32 || dtype == DType::u8),
                      "collate_detection: sample {} (dataset index {}) has a {} image, sample 0 "
                      "a {} one (both f32 or both u8 needed)",
                      i, indices[i], dtype_name(s.image.dtype()), dtype_name(dtype));
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
  DetectionBatch out = allocate_detection_batch(batch, height, width, most, masks, pool, dtype);
  const size_t element = dtype == DType::u8 ? 1 : sizeof(float);
  auto* images = static_cast<uint8_t*>(out.images.raw_data());
  if (dtype == DType::u8) {
    std::fill(images, images + out.images.numel(), uint8_t{0});
  } else {
    std::fill(out.images.data<float>(), out.images.data<float>() + out.images.numel(), pad_value);
  }
  uint8_t* mask_data = masks ? out.masks.data<uint8_t>() : nullptr;
  if (masks) std::fill(mask_data, mask_data + out.masks.numel(), uint8_t{255});
  for (int64_t b = 0; b < batch; ++b) {
    const DetectionResult& s = samples[static_cast<size_t>(b)];
    // The sample's own tensors are already padded (the transform's pad); copy all of them.
    const int64_t h = s.image.size(1), w = s.image.size(2);
    const auto* src = static_cast<const uint8_t*>(s.image.raw_data());
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < h; ++y) {
        std::memcpy(images + element * static_cast<size_t>(((b * 3 + c) * height + y) * width),
                    src + element * static_cast<size_t>((c * h + y) * w),
                    element * static_cast<size_t>(w));
      }
    }
    if (masks) {
      const uint8_t* m = s.mask.data<uint8_t>();
      for (int64_t y = 0; y < s.mask.size(0); ++y) {
        std::memcpy(mask_data + (b * height + y) * width, m + y * s.mask.size(1),
                    static_cast<size_t>(s.mask.size(1)));
      }
    }
    write_objects(out, b, s, indices[static_cast<size_t>(b)]);
  }
  return out;
}

}  // namespace osprey::data
