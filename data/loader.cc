#include "data/loader.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "data/sampler.h"
#include "framework/core/error.h"

namespace osprey::data {

std::string LoaderPosition::str() const {
  return fmt::format("{}:{}", epoch, batch);
}

LoaderPosition LoaderPosition::parse(std::string_view text) {
  auto number = [&](std::string_view part) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    OSPREY_CHECK(
        ec == std::errc() && end == part.data() + part.size() && !part.empty() && value >= 0,
        "loader position '{}' is not of the form epoch:batch (decimal numbers)", text);
    return value;
  };
  size_t colon = text.find(':');
  OSPREY_CHECK(colon != std::string_view::npos,
               "loader position '{}' is not of the form epoch:batch (decimal numbers)", text);
  return {number(text.substr(0, colon)), number(text.substr(colon + 1))};
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, ClassificationTransform transform,
                       LoaderConfig config)
    : dataset_(std::move(dataset)), transform_(std::move(transform)), config_(config) {
  OSPREY_CHECK(dataset_ != nullptr, "loader: no dataset");
  OSPREY_CHECK(config_.batch_size > 0, "loader: batch_size must be positive, got {}",
               config_.batch_size);
  OSPREY_CHECK(config_.workers >= 0 && config_.prefetch >= 0,
               "loader: workers ({}) and prefetch ({}) must not be negative", config_.workers,
               config_.prefetch);
  const int64_t n = dataset_->size();
  batches_per_epoch_ = config_.drop_last ? n / config_.batch_size
                                         : (n + config_.batch_size - 1) / config_.batch_size;
  capacity_ =
      std::max(config_.prefetch == 0 ? 2 * config_.workers : config_.prefetch, config_.workers);
}

DataLoader::~DataLoader() {
  stop_workers();
}

int64_t DataLoader::flat_index(LoaderPosition position) const {
  return position.epoch * batches_per_epoch_ + position.batch;
}

LoaderPosition DataLoader::from_flat(int64_t flat) const {
  return {flat / batches_per_epoch_, flat % batches_per_epoch_};
}

std::shared_ptr<const std::vector<int64_t>> DataLoader::order_for(int64_t epoch) const {
  std::lock_guard<std::mutex> lock(order_mutex_);
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  auto order = std::make_shared<const std::vector<int64_t>>(
      epoch_order(dataset_->size(), config_.shuffle, config_.seed, epoch));
  // Workers run at most a few batches ahead, so the current and next epochs are all that is used;
  // an evicted order is simply computed again.
  if (orders_.size() >= 3) orders_.erase(orders_.begin());
  orders_.emplace(epoch, order);
  return order;
}

Batch DataLoader::make_batch(LoaderPosition position) const {
  OSPREY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch < batches_per_epoch_,
               "loader: no batch {} in epoch {} (an epoch has {} batches)", position.batch,
               position.epoch, batches_per_epoch_);
  std::shared_ptr<const std::vector<int64_t>> order = order_for(position.epoch);
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

std::optional<Batch> DataLoader::next() {
  if (position_.batch >= batches_per_epoch_) {
    position_ = {position_.epoch + 1, 0};
    return std::nullopt;
  }
  if (config_.workers == 0) {
    Batch batch = make_batch(position_);
    ++position_.batch;
    return batch;
  }
  if (threads_.empty()) start_workers();
  const int64_t flat = flat_index(position_);
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(flat) != 0; });
    auto node = ready_.extract(flat);
    slot = std::move(node.mapped());
    consumed_ = flat + 1;
  }
  work_cv_.notify_all();
  if (slot.error) {
    // Restart the pipeline at this batch so a caller that handles the error can retry it.
    stop_workers();
    std::rethrow_exception(slot.error);
  }
  ++position_.batch;
  return std::move(slot.batch);
}

void DataLoader::set_position(LoaderPosition position) {
  OSPREY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch <= batches_per_epoch_,
               "loader: cannot resume at batch {} of epoch {} (an epoch has {} batches)",
               position.batch, position.epoch, batches_per_epoch_);
  stop_workers();
  position_ = position;
}

void DataLoader::start_workers() {
  stop_ = false;
  ready_.clear();
  next_claim_ = consumed_ = flat_index(position_);
  for (int64_t i = 0; i < config_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  ready_.clear();
}

void DataLoader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || next_claim_ < consumed_ + capacity_; });
    if (stop_) return;
    const int64_t flat = next_claim_++;
    lock.unlock();
    Slot slot;
    try {
      slot.batch = make_batch(from_flat(flat));
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    ready_.emplace(flat, std::move(slot));
    ready_cv_.notify_all();
  }
}

}  // namespace osprey::data
