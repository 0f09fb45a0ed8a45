// Batches of transformed detection samples (detection_transform.h): images of different sizes
// share one padded tensor, and a per-image count says how many rows of the padded box tensors are
// real.
#pragma once

#include <cstdint>
#include <vector>

#include "data/batch_pipeline.h"
#include "data/detection/detection_transform.h"
#include "data/host_block_pool.h"
#include "framework/core/tensor.h"

namespace osprey::data {

struct DetectionBatch {
  // f32 B×3×H×W: each image at the top left, the rest pad_value. H and W are the largest image
  // height and width in the batch, rounded up to a multiple of pad_multiple. With the transform's
  // u8_images: u8 B×3×H×W in RGB order, padding 0, for normalise_batch (normalise_batch.h).
  Tensor images;
  Tensor image_sizes;  // i64 B×2: (height, width) of each image's valid area, without padding
  // M = the most objects of any image in the batch (0 when there are none). Rows at and past an
  // image's count are padding: boxes 0, classes -1, flags 0.
  Tensor boxes;      // f32 B×M×4 (x1, y1, x2, y2) in the pixels of the padded image
  Tensor classes;    // i64 B×M
  Tensor difficult;  // u8 B×M: VOC difficult / COCO crowd, which evaluation and training ignore
  Tensor counts;     // i64 B: objects per image
  Tensor masks;      // u8 B×H×W padded with 255 (void); undefined when the samples have no mask
  Tensor indices;    // i64 B: the dataset index of each sample
  int64_t dropped = 0;  // objects removed by the crops of this batch's samples
  int64_t clipped = 0;  // objects cut by the crops and kept
  int64_t corrupt = 0;  // corrupt samples replaced by readable ones (CorruptSamplePolicy::skip)
  LoaderPosition position;
};

// Collates `samples` (taken from dataset indices `indices`); either every sample has a mask or
// none. The tensors are views of one host block, from `pool` when given. u8 sample images (the
// u8_images mode) give a u8 batch padded with 0 (pad_value is then not used).
DetectionBatch collate_detection(const std::vector<DetectionResult>& samples,
                                 const std::vector<int64_t>& indices, int pad_multiple,
                                 float pad_value, HostBlockPool* pool = nullptr);

// The tensors of a batch of `batch` images of height × width with room for `most` objects each,
// as contiguous views of one host block (from `pool`, or new memory without one), so that one copy
// uploads the whole batch. The box rows are padding (boxes 0, classes -1, difficult 0); images and
// masks are left for the caller to write, padding included. `image_dtype`: f32, or u8 for the
// u8_images mode.
DetectionBatch allocate_detection_batch(int64_t batch, int64_t height, int64_t width, int64_t most,
                                        bool masks, HostBlockPool* pool,
                                        DType image_dtype = DType::f32);

// Image b's size, objects (boxes, classes, flags, count), dataset index and crop counts, written
// into a batch from allocate_detection_batch (its pixels are the caller's business).
void write_objects(DetectionBatch& out, int64_t b, const DetectionResult& sample, int64_t index);

// The defined tensors of `batch`, all views of one block when it came from the functions above.
std::vector<Tensor*> batch_tensors(DetectionBatch& batch);

}  // namespace osprey::data
