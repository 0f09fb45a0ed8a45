// The batch machinery shared by the loaders (loader.h for classification,
// detection/detection_loader.h): epochs of batches, an ordered bounded prefetch by worker threads,
// and a resumable position. What a batch is and how it is made is the loader's business: it hands
// the pipeline a function that makes batch (epoch, batch) on any thread, which must be a pure
// function of the position for the determinism guarantees of loader.h to hold.
//
// Threads. With `workers` = 0 each batch is made on the calling thread inside next(). With N > 0,
// N threads make batches ahead of the consumer: at most `prefetch` batches (default 2 per worker,
// never fewer than N) are in the making or waiting at once, counting the one next() waits for;
// next() hands them out in order. An error inside a worker is rethrown by the next() that reaches
// its batch, and the pipeline restarts at that batch.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "framework/core/error.h"

namespace osprey::data {

// The batch next() returns next: batch `batch` of epoch `epoch`. batch == batches_per_epoch()
// means the epoch is done and next() will return nullopt and move to (epoch + 1, 0).
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
  bool operator==(const LoaderPosition&) const = default;
  std::string str() const;                             // "epoch:batch" in decimal
  static LoaderPosition parse(std::string_view text);  // inverse of str(); errors name the text
};

// The visiting order of each epoch (sampler.h's epoch_order), computed once per epoch and shared
// by the threads that make batches.
class EpochOrders {
 public:
  EpochOrders(int64_t size, bool shuffle, uint64_t seed)
      : size_(size), shuffle_(shuffle), seed_(seed) {}
  std::shared_ptr<const std::vector<int64_t>> get(int64_t epoch) const;

 private:
  int64_t size_;
  bool shuffle_;
  uint64_t seed_;
  mutable std::mutex mutex_;
  mutable std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> orders_;
};

template <typename B>
class BatchPipeline {
 public:
  using MakeBatch = std::function<B(LoaderPosition)>;

  BatchPipeline(int64_t batches_per_epoch, int64_t workers, int64_t prefetch, MakeBatch make)
      : batches_per_epoch_(batches_per_epoch), workers_(workers), make_(std::move(make)) {
    OSPREY_CHECK(workers >= 0 && prefetch >= 0,
                 "loader: workers ({}) and prefetch ({}) must not be negative", workers, prefetch);
    capacity_ = std::max(prefetch == 0 ? 2 * workers : prefetch, workers);
  }
  ~BatchPipeline() { stop_workers(); }
  BatchPipeline(const BatchPipeline&) = delete;
  BatchPipeline& operator=(const BatchPipeline&) = delete;

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  LoaderPosition position() const { return position_; }
  int64_t capacity() const { return capacity_; }

  // Whether next() would return without waiting: its batch is made (or the epoch is over). With no
  // workers, false, since next() makes the batch itself.
  bool next_ready() {
    if (position_.batch >= batches_per_epoch_) return true;
    if (threads_.empty()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    return ready_.count(flat_index(position_)) != 0;
  }

  std::optional<B> next() {
    if (position_.batch >= batches_per_epoch_) {
      position_ = {position_.epoch + 1, 0};
      return std::nullopt;
    }
    if (workers_ == 0) {
      B batch = make_(position_);
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

  // Continues from `position` (0 <= batch <= batches_per_epoch()); batches made ahead are dropped.
  void set_position(LoaderPosition position) {
    OSPREY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch <= batches_per_epoch_,
                 "loader: cannot resume at batch {} of epoch {} (an epoch has {} batches)",
                 position.batch, position.epoch, batches_per_epoch_);
    stop_workers();
    position_ = position;
  }

 private:
  struct Slot {
    std::optional<B> batch;
    std::exception_ptr error;
  };

  int64_t flat_index(LoaderPosition p) const { return p.epoch * batches_per_epoch_ + p.batch; }
  LoaderPosition from_flat(int64_t flat) const {
    return {flat / batches_per_epoch_, flat % batches_per_epoch_};
  }

  void start_workers() {
    stop_ = false;
    ready_.clear();
    next_claim_ = consumed_ = flat_index(position_);
    for (int64_t i = 0; i < workers_; ++i) threads_.emplace_back([this] { worker_loop(); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    ready_.clear();
  }

  void worker_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      work_cv_.wait(lock, [&] { return stop_ || next_claim_ < consumed_ + capacity_; });
      if (stop_) return;
      const int64_t flat = next_claim_++;
      lock.unlock();
      Slot slot;
      try {
        slot.batch = make_(from_flat(flat));
      } catch (...) {
        slot.error = std::current_exception();
      }
      lock.lock();
      ready_.emplace(flat, std::move(slot));
      ready_cv_.notify_all();
    }
  }

  int64_t batches_per_epoch_;
  int64_t workers_;
  int64_t capacity_ = 0;  // batches that may be ready or in the making at once
  MakeBatch make_;
  LoaderPosition position_;

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
