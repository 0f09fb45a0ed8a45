#include "data/detection/detection_loader.h"

#include <filesystem>

#include "data/image/resize.h"
#include "framework/core/error.h"

namespace osprey::data {

FileDetectionSource::FileDetectionSource(DetectionDataset dataset, DecodeOptions options,
                                         CorruptSamplePolicy policy)
    : dataset_(std::move(dataset)), options_(options), policy_(policy) {
  // The transforms take RGB images and index masks: these two options are not the caller's.
  options_.keep_grey = false;
  options_.keep_alpha = false;
  options_.palette_indices = false;
}

std::string FileDetectionSource::resolve(const std::string& path) const {
  if (dataset_.root.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(dataset_.root) / path).string();
}

DetectionSample FileDetectionSource::sample(int64_t index) const {
  OSPREY_CHECK(index >= 0 && index < size(), "dataset '{}': no sample {} (it has {})",
               dataset_.name, index, size());
  auto context = [&](Error& e, int64_t i) {
    e.add_context(fmt::format("reading sample {} (id '{}') of dataset '{}'", i,
                              dataset_.images[static_cast<size_t>(i)].id, dataset_.name));
  };
  try {
    return read(index);
  } catch (Error& e) {
    context(e, index);
    if (policy_ == CorruptSamplePolicy::strict) throw;
    for (int64_t k = 1; k < size(); ++k) {
      const int64_t other = (index + k) % size();
      try {
        DetectionSample sample = read(other);
        sample.skipped = static_cast<int>(k);
        sample.index = other;
        return sample;
      } catch (const Error&) {
        // Also corrupt: keep looking; the requested sample's error is the one reported.
      }
    }
    throw;
  }
}

DetectionSample FileDetectionSource::read(int64_t index) const {
  const AnnotatedImage& entry = dataset_.images[static_cast<size_t>(index)];
  DetectionSample sample;
  const std::string path = resolve(entry.image_path);
  DecodeStats stats;
  sample.image = read_image(path, options_, &stats);
  OSPREY_CHECK_KIND(io,
                    (entry.width == 0 || entry.width == stats.source_width) &&
                        (entry.height == 0 || entry.height == stats.source_height),
                    "image '{}' (id '{}') decodes to {}x{} but its annotation says {}x{}", path,
                    entry.id, stats.source_width, stats.source_height, entry.width, entry.height);
  sample.objects = entry.objects;
  const bool scaled = stats.scale_denom != 1;
  if (scaled) {
    const float sx = static_cast<float>(sample.image.width) / stats.source_width;
    const float sy = static_cast<float>(sample.image.height) / stats.source_height;
    for (Object& o : sample.objects) {
      o.box = {o.box[0] * sx, o.box[1] * sy, o.box[2] * sx, o.box[3] * sy};
    }
  }
  if (!entry.mask_path.empty()) {
    DecodeOptions mask_options = options_;
    mask_options.palette_indices = true;
    const std::string mask_path = resolve(entry.mask_path);
    sample.mask = read_image(mask_path, mask_options);
    OSPREY_CHECK_KIND(
        io, sample.mask.width == stats.source_width && sample.mask.height == stats.source_height,
        "mask '{}' is {}x{} but its image '{}' is {}x{}", mask_path, sample.mask.width,
        sample.mask.height, path, stats.source_width, stats.source_height);
    if (scaled) sample.mask = resize_nearest(sample.mask, sample.image.width, sample.image.height);
  }
  return sample;
}

DetectionLoader::DetectionLoader(std::shared_ptr<const DetectionSource> source,
                                 DetectionTransform transform, LoaderConfig config)
    : source_(std::move(source)),
      transform_(std::move(transform)),
      config_(config),
      orders_(source_ ? source_->size() : 0, config.shuffle, config.seed) {
  OSPREY_CHECK(source_ != nullptr, "detection loader: no source");
  OSPREY_CHECK(config_.batch_size > 0, "detection loader: batch_size must be positive, got {}",
               config_.batch_size);
  const int64_t n = source_->size();
  batches_per_epoch_ = config_.drop_last ? n / config_.batch_size
                                         : (n + config_.batch_size - 1) / config_.batch_size;
  pipeline_ = std::make_unique<BatchPipeline<DetectionBatch>>(
      batches_per_epoch_, config_.workers, config_.prefetch,
      [this](LoaderPosition position) { return make_batch(position); });
}

DetectionBatch DetectionLoader::make_batch(LoaderPosition position) const {
  OSPREY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch < batches_per_epoch_,
               "detection loader: no batch {} in epoch {} (an epoch has {} batches)",
               position.batch, position.epoch, batches_per_epoch_);
  std::shared_ptr<const std::vector<int64_t>> order = orders_.get(position.epoch);
  const int64_t begin = position.batch * config_.batch_size;
  const int64_t count =
      std::min<int64_t>(config_.batch_size, static_cast<int64_t>(order->size()) - begin);
  std::vector<DetectionResult> results;
  std::vector<int64_t> indices;
  int64_t corrupt = 0;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t index = (*order)[static_cast<size_t>(begin + k)];
    const DetectionSample sample = source_->sample(index);
    results.push_back(transform_.apply(sample, config_.seed, position.epoch, index));
    indices.push_back(index);
    corrupt += sample.skipped;
    if (sample.index >= 0) indices.back() = sample.index;
  }
  DetectionBatch batch = collate_detection(results, indices, transform_.config().pad_multiple,
                                           transform_.config().pad_value);
  batch.position = position;
  batch.corrupt = corrupt;
  return batch;
}

std::optional<DetectionBatch> DetectionLoader::next() {
  std::optional<DetectionBatch> batch = pipeline_->next();
  if (batch) corrupt_samples_ += batch->corrupt;
  return batch;
}

}  // namespace osprey::data
