// The batched loader of classification datasets. It visits the dataset in the order of each epoch
// (sampler.h), runs each example through a ClassificationTransform (transforms.h) and collates
// batches: images as a contiguous f32 B×C×H×W (NCHW) tensor, labels as i64 B.
//
// Determinism. Batch b of epoch e is a pure function of (dataset, transform, config, e, b): the
// order comes from (seed, e), each sample's crop and flip from (seed, e, dataset index). So one
// thread or many give the same batches, and a run restored to a saved LoaderPosition continues with
// exactly the batches it would have produced.
//
// Threads: batches are made ahead by `workers` threads with a bounded, ordered prefetch, or on the
// calling thread with workers = 0 (batch_pipeline.h, shared with the detection loader).
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

#include <cstdint>
#include <memory>
#include <optional>

#include "data/batch_pipeline.h"
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
  // DetectionLoader: a CUDA device gets each batch uploaded there from pinned host memory on a copy
  // stream that overlaps compute (detection/batch_upload.h); the CPU keeps batches on the host.
  Device device = Device::cpu();
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
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const LoaderConfig& config() const { return config_; }
  const Dataset& dataset() const { return *dataset_; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  // The next batch of the current epoch, or nullopt once the epoch is exhausted (then the position
  // moves to the start of the next epoch, so calling again begins it).
  std::optional<Batch> next() { return pipeline_->next(); }
  LoaderPosition position() const { return pipeline_->position(); }
  // Continues from `position` (0 <= batch <= batches_per_epoch()); batches made ahead are dropped.
  void set_position(LoaderPosition position) { pipeline_->set_position(position); }

  // Batch `position` made on the calling thread, independent of the iteration state.
  Batch make_batch(LoaderPosition position) const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  ClassificationTransform transform_;
  LoaderConfig config_;
  int64_t batches_per_epoch_ = 0;
  EpochOrders orders_;
  std::unique_ptr<BatchPipeline<Batch>> pipeline_;
};

}  // namespace osprey::data
