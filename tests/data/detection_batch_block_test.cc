// Batches written straight into reused host blocks: the loader's batches equal collate_detection
// over DetectionTransform::apply() (masks, crops, photometric jitter, odd sizes), every tensor of a
// batch views one block, and the pool reuses blocks instead of allocating one per batch; the
// pipeline says when its next batch is ready.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "data/batch_pipeline.h"
#include "data/detection/detection_loader.h"

namespace osprey::data {
namespace {

// Sample i: a (30 + 7i % 23) × (20 + 5i % 17) image with a pattern, i % 4 boxes and a mask.
class PatternSource : public DetectionSource {
 public:
  int64_t size() const override { return 13; }
  DetectionSample sample(int64_t i) const override {
    const int w = 30 + static_cast<int>(7 * i % 23), h = 20 + static_cast<int>(5 * i % 17);
    DetectionSample s;
    s.image = Image(w, h, 3);
    s.mask = Image(w, h, 1);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c)
          s.image.at(y, x, c) = static_cast<uint8_t>(x * 9 + y * 5 + c * 70 + i);
        s.mask.at(y, x, 0) = static_cast<uint8_t>((x / 4 + y / 3) % 5);
      }
    }
    for (int k = 0; k < i % 4; ++k) {
      s.objects.push_back(Object{{float(2 + k), 3, float(12 + 2 * k), 15}, k, k == 2});
    }
    return s;
  }
};

TEST(DetectionBatchBlock, LoaderBatchesEqualCollatedTransformResults) {
  auto source = std::make_shared<PatternSource>();
  for (bool jitter : {false, true}) {
    DetectionTransformConfig config{.crop_probability = 0.5f,
                                    .crop_min_fraction = 0.5f,
                                    .short_sides = {24, 41},
                                    .max_side = 70,
                                    .flip = true,
                                    .brightness = jitter ? 0.3f : 0.0f,
                                    .bgr = true,
                                    .mean = {100, 110, 120},
                                    .std = {50, 60, 70},
                                    .pad_multiple = 8,
                                    .pad_value = -2.0f};
    const DetectionTransform transform(config);
    const LoaderConfig loader_config{.batch_size = 3, .workers = 2, .seed = 5};
    DetectionLoader loader(source, transform, loader_config);
    EpochOrders orders(source->size(), true, 5);
    const auto order = orders.get(0);
    int64_t b = 0;
    while (auto batch = loader.next()) {
      std::vector<DetectionResult> results;
      std::vector<int64_t> indices;
      for (int64_t k = 3 * b; k < std::min<int64_t>(3 * b + 3, source->size()); ++k) {
        const int64_t index = (*order)[static_cast<size_t>(k)];
        results.push_back(transform.apply(source->sample(index), 5, 0, index));
        indices.push_back(index);
      }
      const DetectionBatch expected =
          collate_detection(results, indices, config.pad_multiple, config.pad_value);
      EXPECT_EQ(batch->images.shape(), expected.images.shape());
      EXPECT_EQ(batch->images.to_vector<float>(), expected.images.to_vector<float>());
      EXPECT_EQ(batch->masks.to_vector<uint8_t>(), expected.masks.to_vector<uint8_t>());
      EXPECT_EQ(batch->boxes.to_vector<float>(), expected.boxes.to_vector<float>());
      EXPECT_EQ(batch->classes.to_vector<int64_t>(), expected.classes.to_vector<int64_t>());
      EXPECT_EQ(batch->difficult.to_vector<uint8_t>(), expected.difficult.to_vector<uint8_t>());
      EXPECT_EQ(batch->counts.to_vector<int64_t>(), expected.counts.to_vector<int64_t>());
      EXPECT_EQ(batch->image_sizes.to_vector<int64_t>(), expected.image_sizes.to_vector<int64_t>());
      EXPECT_EQ(batch->indices.to_vector<int64_t>(), expected.indices.to_vector<int64_t>());
      EXPECT_EQ(batch->dropped, expected.dropped);
      EXPECT_EQ(batch->clipped, expected.clipped);
      for (Tensor* t : batch_tensors(*batch)) {
        EXPECT_EQ(t->storage(), batch->images.storage());
        EXPECT_TRUE(t->is_contiguous());
      }
      ++b;
    }
    EXPECT_EQ(b, 5);
  }
}

TEST(DetectionBatchBlock, PoolReusesBlocksAcrossEpochs) {
  auto source = std::make_shared<PatternSource>();
  DetectionLoader loader(source, DetectionTransform({.short_sides = {40}, .pad_multiple = 32}),
                         LoaderConfig{.batch_size = 2, .workers = 2, .prefetch = 3});
  for (int epoch = 0; epoch < 3; ++epoch) {
    while (auto batch = loader.next()) EXPECT_EQ(batch->images.size(2) % 32, 0);
  }
  // 21 batches; at most prefetch 3 in flight, one held, the free list: a handful of blocks.
  EXPECT_LE(loader.host_pool().blocks_allocated(), 7u);
  EXPECT_FALSE(loader.host_pool().pinned());
  EXPECT_EQ(loader.uploader(), nullptr);
}

TEST(HostBlockPool, ReusesFreedBlocksAndKeepsAtMostMaxFree) {
  HostBlockPool pool(2, false);
  void* first = nullptr;
  {
    HostBlockPool::Block a = pool.acquire(100000);
    first = a.data();
    EXPECT_GE(a.size, 100000u);
    EXPECT_LE(a.offset + a.size, a.storage->nbytes());
  }
  EXPECT_EQ(pool.free_blocks(), 1u);
  HostBlockPool::Block again = pool.acquire(90000);  // fits and is not oversized
  EXPECT_EQ(again.data(), first);
  HostBlockPool::Block big = pool.acquire(1000000);  // the free list has nothing this large
  EXPECT_EQ(pool.blocks_allocated(), 2u);
  {
    std::vector<HostBlockPool::Block> more;
    for (int i = 0; i < 3; ++i) more.push_back(pool.acquire(50000));
  }
  EXPECT_EQ(pool.free_blocks(), 2u);               // the third went back to the system
  HostBlockPool::Block tiny = pool.acquire(1000);  // never a block far too large
  EXPECT_LT(tiny.size, 50000u);
}

// next_ready(), which the device loader uses to upload ahead without waiting: false while the batch
// next() needs is not made (always, without workers), true once it is and at the epoch's end.
TEST(BatchPipeline, NextReadySaysWhetherNextWouldWait) {
  BatchPipeline<int64_t> serial(2, 0, 0, [](LoaderPosition p) { return p.batch; });
  EXPECT_FALSE(serial.next_ready());
  EXPECT_EQ(serial.next(), 0);
  EXPECT_EQ(serial.next(), 1);
  EXPECT_TRUE(serial.next_ready());  // the epoch is over: next() returns nullopt at once

  BatchPipeline<int64_t> threaded(3, 1, 2, [](LoaderPosition p) { return 10 * p.batch; });
  EXPECT_FALSE(threaded.next_ready());  // no worker has started yet
  EXPECT_EQ(threaded.next(), 0);        // starts the worker, which then makes batch 1 ahead
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!threaded.next_ready() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(threaded.next_ready());
  EXPECT_EQ(threaded.next(), 10);
}

}  // namespace
}  // namespace osprey::data
