// The batched loader of detection and segmentation datasets: each epoch visits the samples in the
// order of sampler.h, runs each through a DetectionTransform and collates batches
// (detection_collate.h), with the worker threads, prefetch and resumable positions of
// batch_pipeline.h — the same guarantees as the classification loader (loader.h): batch b of
// epoch e is a pure function of (source, transform, config, e, b), at any thread count.
//
//   auto source = std::make_shared<FileDetectionSource>(dataset);
//   DetectionLoader loader(source, DetectionTransform(transform_config), loader_config);
//   while (auto batch = loader.next()) { ... batch->images, batch->boxes, batch->counts ... }
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "data/batch_pipeline.h"
#include "data/detection/annotation.h"
#include "data/detection/batch_upload.h"
#include "data/detection/detection_collate.h"
#include "data/detection/detection_transform.h"
#include "data/host_block_pool.h"
#include "data/image/codec.h"
#include "data/loader.h"

namespace osprey::data {

// Where the loader gets its samples. sample() must be safe to call from several threads at once.
class DetectionSource {
 public:
  virtual ~DetectionSource() = default;
  virtual int64_t size() const = 0;
  // Sample `index` in [0, size()); an index outside that range is a value error.
  virtual DetectionSample sample(int64_t index) const = 0;
};

// The images of a DetectionDataset read from their files: image_path (relative paths are taken
// from the dataset's root) decoded to RGB, mask_path (when set) decoded to palette indices. A
// decoded size that differs from the annotation's width/height (when given) is an error naming the
// file, since the boxes would not fit the pixels.
// DCT-scaled decoding: with options.min_width / min_height (or scale_denom) set, JPEGs decode at
// 1/2, 1/4 or 1/8 size when that stays above the minimum — set both minimums to the transform's
// smallest target side to skip decoding pixels the resize would throw away. Boxes are then scaled
// to the decoded size and masks resized to it (nearest neighbour), so the sample stays consistent.
// Corrupt samples: a sample whose files cannot be read or decoded (missing, empty, truncated,
// corrupt, of another size than the annotation says) is, under
//   strict: an error naming the file, with the dataset, sample index and id added as context;
//   skip: replaced by the next readable sample in dataset order (index + 1, index + 2, ...,
//         wrapping around) — a pure function of the index, so batches stay the same at any thread
//         count — with DetectionSample::skipped counting the corrupt ones passed over. The loader
//         adds these up per batch (DetectionBatch::corrupt) and in total (corrupt_samples()).
//         When no sample is readable the error of the requested one is thrown.
enum class CorruptSamplePolicy { strict, skip };

class FileDetectionSource : public DetectionSource {
 public:
  explicit FileDetectionSource(DetectionDataset dataset, DecodeOptions options = {},
                               CorruptSamplePolicy policy = CorruptSamplePolicy::strict);
  int64_t size() const override { return static_cast<int64_t>(dataset_.images.size()); }
  DetectionSample sample(int64_t index) const override;
  const DetectionDataset& dataset() const { return dataset_; }

 private:
  std::string resolve(const std::string& path) const;
  DetectionSample read(int64_t index) const;  // strict: throws on a corrupt sample
  DetectionDataset dataset_;
  DecodeOptions options_;
  CorruptSamplePolicy policy_;
};

// Batches are written straight into reused host blocks (host_block_pool.h: no per-sample images
// and no fresh pages per batch). With config.device a CUDA device, the blocks are pinned and each
// batch is uploaded on a copy stream (batch_upload.h): next() returns device tensors that the
// calling thread's current stream may use at once (it waits on the copy's event), and it starts
// the upload of the following batch when that one is already made, so the upload overlaps the
// compute the caller issues on this one. Call next() from one thread, the one issuing the compute.
class DetectionLoader {
 public:
  // The batches are padded to the largest image of each batch, rounded up to the transform's
  // pad_multiple, with its pad_value. With the transform's u8_images the images are u8 (RGB,
  // padding 0): normalise them with normalise_batch (normalise_batch.h) after next().
  DetectionLoader(std::shared_ptr<const DetectionSource> source, DetectionTransform transform,
                  LoaderConfig config);
  // Stops the workers (a batch being made is finished first), then waits for uploads in flight.
  ~DetectionLoader();
  DetectionLoader(const DetectionLoader&) = delete;
  DetectionLoader& operator=(const DetectionLoader&) = delete;

  const LoaderConfig& config() const { return config_; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  std::optional<DetectionBatch> next();
  // Corrupt samples replaced (CorruptSamplePolicy::skip) in the batches next() has returned.
  int64_t corrupt_samples() const { return corrupt_samples_; }
  LoaderPosition position() const;
  void set_position(LoaderPosition position);
  // Batch `position` made on the calling thread, independent of the iteration state (on the host).
  DetectionBatch make_batch(LoaderPosition position) const;
  const HostBlockPool& host_pool() const { return *pool_; }
  // The copy stream's uploader; nullptr on the CPU.
  const BatchUploader* uploader() const { return uploader_.get(); }

 private:
  std::shared_ptr<const DetectionSource> source_;
  DetectionTransform transform_;
  LoaderConfig config_;
  int64_t batches_per_epoch_ = 0;
  EpochOrders orders_;
  int64_t corrupt_samples_ = 0;
  std::unique_ptr<HostBlockPool> pool_;
  std::unique_ptr<BatchUploader> uploader_;
  std::deque<BatchUploader::Upload> staged_;                 // uploads started, in batch order
  std::unique_ptr<BatchPipeline<DetectionBatch>> pipeline_;  // last: its threads stop first
};

}  // namespace osprey::data
