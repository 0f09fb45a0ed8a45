#include "data/loader.h"

#include <algorithm>
#include <cstring>

#include "framework/core/error.h"

namespace osprey::data {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, ClassificationTransform transform,
                       LoaderConfig config)
    : dataset_(std::move(dataset)),
      transform_(std::move(transform)),
      config_(config),
      orders_(dataset_ ? dataset_->size() : 0, config.shuffle, config.seed) {
  OSPREY_CHECK(dataset_ != nullptr, "loader: no dataset");
  OSPREY_CHECK(config_.batch_size > 0, "loader: batch_size must be positive, got {}",
               config_.batch_size);
  const int64_t n = dataset_->size();
  batches_per_epoch_ = config_.drop_last ? n / config_.batch_size
                                         : (n + config_.batch_size - 1) / config_.batch_size;
  pipeline_ = std::make_unique<BatchPipeline<Batch>>(
      batches_per_epoch_, config_.workers, config_.prefetch,
      [this](LoaderPosition position) { return make_batch(position); });
}

Batch DataLoader::make_batch(LoaderPosition position) const {
  OSPREY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch < batches_per_epoch_,
               "loader: no batch {} in epoch {} (an epoch has {} batches)", position.batch,
               position.epoch, batches_per_epoch_);
  std::shared_ptr<const std::vector<int64_t>> order = orders_.get(position.epoch);
  const int64_t begin = position.batch * config_.batch_size;
  const int64_t count =
      std::min<int64_t>(config_.batch_size, static_cast<int64_t>(order->size()) - begin);

  Batch batch;
  batch.position = position;
  batch.labels = Tensor::empty({count}, DType::i64);
  batch.indices = Tensor::empty({count}, DType::i64);
  int64_t* labels = batch.labels.data<int64_t>();
  int64_t* indices = batch.indices.data<int64_t>();
  Shape sample_shape;
  int64_t sample_numel = 0;
  float* images = nullptr;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t index = (*order)[static_cast<size_t>(begin + k)];
    Example example = dataset_->example(index);
    const Shape shape = example.image.shape();
    if (k == 0) {
      // The first example fixes the shape of the batch; the rest must match it.
      sample_shape = transform_.output_shape(shape);
      sample_numel = shape_numel(sample_shape);
      Shape batch_shape{count};
      batch_shape.insert(batch_shape.end(), sample_shape.begin(), sample_shape.end());
      batch.images = Tensor::empty(batch_shape, DType::f32);
      images = batch.images.data<float>();
    } else {
      OSPREY_CHECK_KIND(shape, transform_.output_shape(shape) == sample_shape,
                        "loader: dataset index {} gives a {} image after the transform, but the "
                        "first example of batch {}:{} gives {}",
                        index, shape_str(transform_.output_shape(shape)), position.epoch,
                        position.batch, shape_str(sample_shape));
    }
    TransformChoice choice = transform_.choose(config_.seed, position.epoch, index, shape);
    transform_.apply_into(example.image, choice, images + k * sample_numel);
    labels[k] = example.label;
    indices[k] = index;
  }
  return batch;
}

}  // namespace osprey::data
