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
  if (scaled || entry.normalized_boxes) {
    // Boxes in fractions of the image (OpenImages) scale by the decoded size itself; boxes in
    // source pixels by the DCT scaling factor.
    const float sx =
        static_cast<float>(sample.image.width) / (entry.normalized_boxes ? 1 : stats.source_width);
    const float sy = static_cast<float>(sample.image.height) /
                     (entry.normalized_boxes ? 1 : stats.source_height);
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
  OSPREY_CHECK_KIND(device, !config_.device.is_cuda() || cuda_available(),
                    "detection loader: {} requested but {} CUDA device(s) present",
                    config_.device.str(), cuda_device_count());
  pipeline_ = std::make_unique<BatchPipeline<DetectionBatch>>(
      batches_per_epoch_, config_.workers, config_.prefetch,
      [this](LoaderPosition position) { return make_batch(position); });
  // Blocks in flight: the pipeline's capacity, the one the caller holds and one being uploaded.
  pool_ = std::make_unique<HostBlockPool>(static_cast<size_t>(pipeline_->capacity()) + 2,
                                          config_.device.is_cuda());
  if (config_.device.is_cuda()) uploader_ = std::make_unique<BatchUploader>(config_.device);
}

DetectionLoader::~DetectionLoader() {
  pipeline_.reset();  // the workers use pool_ and source_
  staged_.clear();
}

LoaderPosition DetectionLoader::position() const {
  return staged_.empty() ? pipeline_->position() : staged_.front().batch.position;
}

void DetectionLoader::set_position(LoaderPosition position) {
  staged_.clear();
  pipeline_->set_position(position);
}

DetectionBatch DetectionLoader::make_batch(LoaderPosition position) const {
  OSPREY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch < batches_per_epoch_,
               "detection loader: no batch {} in epoch {} (an epoch has {} batches)",
               position.batch, position.epoch, batches_per_epoch_);
  std::shared_ptr<const std::vector<int64_t>> order = orders_.get(position.epoch);
  const int64_t begin = position.batch * config_.batch_size;
  const int64_t count =
      std::min<int64_t>(config_.batch_size, static_cast<int64_t>(order->size()) - begin);
  // Read and place every sample first, then write the pixels straight into the batch: the same
  // result as collate_detection over transform_.apply() without each sample's own image.
  std::vector<DetectionSample> samples;
  std::vector<DetectionChoice> choices;
  std::vector<DetectionResult> placed;
  std::vector<int64_t> indices;
  int64_t corrupt = 0, height = 0, width = 0, most = 0;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t index = (*order)[static_cast<size_t>(begin + k)];
    samples.push_back(source_->sample(index));
    const DetectionSample& sample = samples.back();
    choices.push_back(transform_.choose(config_.seed, position.epoch, index, sample.image.width,
                                        sample.image.height));
    placed.push_back(transform_.apply_boxes(sample, choices.back()));
    const auto [h, w] = transform_.canvas_size(choices.back());
    height = std::max<int64_t>(height, h);
    width = std::max<int64_t>(width, w);
    most = std::max(most, static_cast<int64_t>(placed.back().objects.size()));
    indices.push_back(sample.index >= 0 ? sample.index : index);
    corrupt += sample.skipped;
    OSPREY_CHECK(sample.mask.empty() == samples[0].mask.empty(),
                 "detection loader: sample {} of batch {} (dataset index {}) {} but sample 0 "
                 "(dataset index {}) {}",
                 k, position.batch, index, sample.mask.empty() ? "has no mask" : "has a mask",
                 (*order)[static_cast<size_t>(begin)],
                 samples[0].mask.empty() ? "has none" : "has one");
  }
  const int multiple = transform_.config().pad_multiple;
  if (multiple > 1) {
    height = (height + multiple - 1) / multiple * multiple;
    width = (width + multiple - 1) / multiple * multiple;
  }
  const bool masks = !samples[0].mask.empty();
  const bool u8 = transform_.config().u8_images;
  DetectionBatch batch = allocate_detection_batch(count, height, width, most, masks, pool_.get(),
                                                  u8 ? DType::u8 : DType::f32);
  for (int64_t k = 0; k < count; ++k) {
    const size_t i = static_cast<size_t>(k);
    uint8_t* mask_out = masks ? batch.masks.data<uint8_t>() + k * height * width : nullptr;
    if (u8) {
      transform_.write_pixels_u8(samples[i], choices[i], static_cast<int>(height),
                                 static_cast<int>(width),
                                 batch.images.data<uint8_t>() + k * 3 * height * width, mask_out);
    } else {
      transform_.write_pixels(samples[i], choices[i], static_cast<int>(height),
                              static_cast<int>(width),
                              batch.images.data<float>() + k * 3 * height * width, mask_out);
    }
    write_objects(batch, k, placed[i], indices[i]);
  }
  batch.position = position;
  batch.corrupt = corrupt;
  return batch;
}

std::optional<DetectionBatch> DetectionLoader::next() {
  if (!uploader_) {
    std::optional<DetectionBatch> batch = pipeline_->next();
    if (batch) corrupt_samples_ += batch->corrupt;
    return batch;
  }
  if (staged_.empty()) {
    std::optional<DetectionBatch> host = pipeline_->next();
    if (!host) return std::nullopt;
    staged_.push_back(uploader_->upload(*host));
  }
  BatchUploader::Upload upload = std::move(staged_.front());
  staged_.pop_front();
  uploader_->hand_over(upload);
  // Upload the next batch now when it is already made (never waiting for it), so the copy runs
  // beside the compute the caller is about to issue on this one.
  if (pipeline_->position().batch < batches_per_epoch_ && pipeline_->next_ready()) {
    try {
      staged_.push_back(uploader_->upload(*pipeline_->next()));
    } catch (const std::exception&) {
      // That batch failed; the pipeline restarts at it, so the next call meets the error again
      // in its own right. This batch is still good.
    }
  }
  corrupt_samples_ += upload.batch.corrupt;
  return std::move(upload.batch);
}

}  // namespace osprey::data
