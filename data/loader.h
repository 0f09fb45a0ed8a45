// The batched loader of classification datasets. It visits the dataset in the order of each epoch
// (sampler.h), runs each example through a ClassificationTransform (transforms.h) and collates
// batches: images as a contiguous f32 B×C×H×W (NCHW) tensor, labels as i64 B.
//
// Determinism. Batch b of epoch e is a pure function of (dataset, transform, config, e, b): the
// order comes from (seed, e), each sample's crop and flip from (seed, e, dataset index). So one
// thread or many give the same batches, and a run restored to a saved LoaderPosition continues with
// exactly the batches it would have produced.
//
// Threads. With `workers` = 0 each batch is made on the calling thread inside next(). With N > 0,
// N threads make batches ahead of the consumer: at most `prefetch` batches (default 2 per worker,
// never fewer than N) are in the making or waiting at once, counting the one next() waits for, so
// memory stays bounded; next() hands them out in order. An error inside a worker is rethrown by the
// next() that reaches its batch.
// A DataLoader itself is driven from one thread (next, position, set_position); the worker
// threads are internal to it.
//
// Typical use by a trainer:
//   DataLoader loader(dataset, ClassificationTransform(transform_config), loader_config);
//   loader.set_position(LoaderPosition::parse(checkpoint_text));   // when resuming
//   while (auto batch = loader.next()) { ... batch->images, batch->labels ... }
//   // next() returned nullopt: the epoch is over and position() is (epoch + 1, 0).
//   save(loader.position().str());   // at any point between batches
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace osprey::data {

struct LoaderConfig {
  int64_t batch_size = 1;
  bool shuffle = true;     // a new permutation every epoch; false: dataset order
  bool drop_last = false;  // drop the final batch of an epoch when it is short
  int64_t workers = 0;     // threads making batches; 0: made synchronously inside next()
  int64_t prefetch = 0;    // batches in flight at most (see above); 0 means 2 per worker
  uint64_t seed = random::kDefaultSeed;  // drives the order and the augmentation
};

// The batch next() returns next: batch `batch` of epoch `epoch`. batch == batches_per_epoch()
// means the epoch is done and next() will return nullopt and move to (epoch + 1, 0).
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
  bool operator==(const LoaderPosition&) const = default;
  std::string str() const;                             // "epoch:batch" in decimal
  static LoaderPosition parse(std::string_view text);  // inverse of str(); errors name the text
};

struct Batch {
  Tensor images;            // f32 B×C×H×W, contiguous
  Tensor labels;            // i64 B
  Tensor indices;           // i64 B: the dataset index of each example
  LoaderPosition position;  // which batch this is
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, ClassificationTransform transform,
             LoaderConfig config);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const LoaderConfig& config() const { return config_; }
  const Dataset& dataset() const { return *dataset_; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  // The next batch of the current epoch, or nullopt once the epoch is exhausted (then the position
  // moves to the start of the next epoch, so calling again begins it).
  std::optional<Batch> next();
  LoaderPosition position() const { return position_; }
  // Continues from `position` (0 <= batch <= batches_per_epoch()); batches made ahead are dropped.
  void set_position(LoaderPosition position);

  // Batch `position` made on the calling thread, independent of the iteration state.
  Batch make_batch(LoaderPosition position) const;

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::shared_ptr<const std::vector<int64_t>> order_for(int64_t epoch) const;
  int64_t flat_index(LoaderPosition position) const;
  LoaderPosition from_flat(int64_t flat) const;
  void start_workers();
  void stop_workers();
  void worker_loop();

  std::shared_ptr<const Dataset> dataset_;
  ClassificationTransform transform_;
  LoaderConfig config_;
  int64_t batches_per_epoch_ = 0;
  int64_t capacity_ = 0;  // batches that may be ready or in the making at once
  LoaderPosition position_;

  // The orders of the epochs in use, shared by the workers (computed once per epoch).
  mutable std::mutex order_mutex_;
  mutable std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> orders_;

  // Worker pipeline over flat batch numbers (epoch * batches_per_epoch + batch).
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable work_cv_;   // a worker may claim another batch, or must stop
  std::condition_variable ready_cv_;  // a batch was finished
  bool stop_ = false;
  int64_t next_claim_ = 0;  // the next flat batch a worker will make
  int64_t consumed_ = 0;    // the flat batch next() waits for
  std::map<int64_t, Slot> ready_;
};

}  // namespace osprey::data
