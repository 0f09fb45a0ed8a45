// The CPU caching allocator: reuse, size classes, the cap and its eviction order, statistics,
// empty_cache, zero-size requests, alignment and concurrent use. Each test owns its allocator, so
// the process-wide one (and the cap the environment gives it) is only touched by the Storage test.
#include "framework/core/cpu_caching_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/tensor.h"
#include "ops/factory/factory.h"

namespace osprey {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

bool aligned(void* p) {
  return reinterpret_cast<uintptr_t>(p) % CpuCachingAllocator::kAlignment == 0;
}

TEST(CpuCachingAllocator, SizeClasses) {
  EXPECT_EQ(CpuCachingAllocator::size_class(0), 64u);
  EXPECT_EQ(CpuCachingAllocator::size_class(1), 64u);
  EXPECT_EQ(CpuCachingAllocator::size_class(64), 64u);
  EXPECT_EQ(CpuCachingAllocator::size_class(65), 128u);
  EXPECT_EQ(CpuCachingAllocator::size_class(kMiB - 1), kMiB);
  EXPECT_EQ(CpuCachingAllocator::size_class(kMiB), kMiB);
  EXPECT_EQ(CpuCachingAllocator::size_class(kMiB + 1), kMiB + kMiB / 8);
  // 411 MB (roi_align's output): 8 classes per power of two, step 32 MiB.
  EXPECT_EQ(CpuCachingAllocator::size_class(411041792), size_t{416} * kMiB);
  for (size_t n : {size_t{3} * kMiB + 5, size_t{100} * kMiB + 1, size_t{1} << 33}) {
    size_t c = CpuCachingAllocator::size_class(n);
    EXPECT_GE(c, n);
    EXPECT_LE(c, n + n / 8);
  }
}

TEST(CpuCachingAllocator, FreedBlockIsReused) {
  CpuCachingAllocator alloc(64 * kMiB);
  void* a = alloc.allocate(1000);
  std::memset(a, 1, 1000);
  alloc.deallocate(a);
  EXPECT_EQ(alloc.allocate(1000), a);
  // A request of a neighbouring class up to 5/4 of it takes the cached block too...
  void* big = alloc.allocate(8 * kMiB);
  alloc.deallocate(big);
  EXPECT_EQ(alloc.allocate(7 * kMiB), big);
  alloc.deallocate(big);
  // ...but a much smaller one does not spend it.
  void* small = alloc.allocate(kMiB);
  EXPECT_NE(small, big);
  alloc.deallocate(small);
  alloc.deallocate(a);
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.num_allocs, 5);
  EXPECT_EQ(s.num_cache_hits, 2);
  EXPECT_EQ(s.num_device_allocs, 3);
  EXPECT_EQ(s.allocated, 0);
}

TEST(CpuCachingAllocator, StatsCountBytesAndPeaks) {
  CpuCachingAllocator alloc(64 * kMiB);
  void* a = alloc.allocate(100);       // class 128
  void* b = alloc.allocate(2 * kMiB);  // class 2 MiB
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.allocated, static_cast<int64_t>(128 + 2 * kMiB));
  EXPECT_EQ(s.reserved, s.allocated);
  alloc.deallocate(b);
  s = alloc.stats();
  EXPECT_EQ(s.allocated, 128);
  EXPECT_EQ(s.reserved, static_cast<int64_t>(128 + 2 * kMiB));  // b is cached
  EXPECT_EQ(s.peak_allocated, static_cast<int64_t>(128 + 2 * kMiB));
  alloc.reset_peak_stats();
  s = alloc.stats();
  EXPECT_EQ(s.peak_allocated, 128);
  EXPECT_EQ(s.peak_reserved, static_cast<int64_t>(128 + 2 * kMiB));
  alloc.deallocate(a);
  alloc.empty_cache();
  s = alloc.stats();
  EXPECT_EQ(s.allocated, 0);
  EXPECT_EQ(s.reserved, 0);
  EXPECT_EQ(s.num_device_frees, 2);
}

TEST(CpuCachingAllocator, EmptyCacheReleasesEverythingCached) {
  CpuCachingAllocator alloc(64 * kMiB);
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(alloc.allocate(kMiB * (i + 1)));
  void* kept = alloc.allocate(4096);
  for (void* p : blocks) alloc.deallocate(p);
  EXPECT_EQ(alloc.stats().reserved - alloc.stats().allocated, static_cast<int64_t>(15 * kMiB));
  alloc.empty_cache();
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.reserved, 4096);
  EXPECT_EQ(s.allocated, 4096);
  EXPECT_EQ(s.num_device_frees, 5);
  // The block in use survives and still returns to the cache.
  std::memset(kept, 7, 4096);
  alloc.deallocate(kept);
  EXPECT_EQ(alloc.allocate(4096), kept);
  alloc.deallocate(kept);
}

TEST(CpuCachingAllocator, CapEvictsOldestFirst) {
  CpuCachingAllocator alloc(5 * kMiB);
  void* a = alloc.allocate(2 * kMiB);
  void* b = alloc.allocate(2 * kMiB);
  void* c = alloc.allocate(2 * kMiB);
  alloc.deallocate(a);
  alloc.deallocate(b);  // 4 MiB cached
  EXPECT_EQ(alloc.stats().num_device_frees, 0);
  alloc.deallocate(c);  // 6 MiB > 5 MiB: a, the oldest, goes
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.num_device_frees, 1);
  EXPECT_EQ(s.reserved, static_cast<int64_t>(4 * kMiB));
  // b and c are still cached (the same class: both can come back, a cannot).
  std::set<void*> back{alloc.allocate(2 * kMiB), alloc.allocate(2 * kMiB)};
  EXPECT_EQ(back, (std::set<void*>{b, c}));
  EXPECT_EQ(alloc.stats().num_cache_hits, 2);
  for (void* p : back) alloc.deallocate(p);
  // A block larger than the whole cap is released at once.
  void* huge = alloc.allocate(8 * kMiB);
  alloc.deallocate(huge);
  EXPECT_EQ(alloc.stats().reserved, static_cast<int64_t>(4 * kMiB));
  // Shrinking the cap evicts.
  alloc.set_cache_limit(2 * kMiB);
  EXPECT_EQ(alloc.stats().reserved, static_cast<int64_t>(2 * kMiB));
  EXPECT_EQ(alloc.cache_limit(), 2 * kMiB);
}

TEST(CpuCachingAllocator, ZeroCapDisablesCaching) {
  CpuCachingAllocator alloc(0);
  void* a = alloc.allocate(4096);
  alloc.deallocate(a);
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.reserved, 0);
  EXPECT_EQ(s.num_device_frees, 1);
  alloc.deallocate(alloc.allocate(4096));
  EXPECT_EQ(alloc.stats().num_cache_hits, 0);
}

TEST(CpuCachingAllocator, ZeroSizeAndAlignment) {
  CpuCachingAllocator alloc(64 * kMiB);
  void* z1 = alloc.allocate(0);
  void* z2 = alloc.allocate(0);
  ASSERT_NE(z1, nullptr);
  ASSERT_NE(z2, nullptr);
  EXPECT_NE(z1, z2);
  std::vector<void*> blocks{z1, z2};
  for (size_t n : {size_t{1}, size_t{63}, size_t{65}, size_t{4097}, kMiB + 3, 5 * kMiB + 7}) {
    blocks.push_back(alloc.allocate(n));
  }
  for (void* p : blocks) {
    EXPECT_TRUE(aligned(p)) << p;
    alloc.deallocate(p);
  }
  for (size_t n : {size_t{1}, size_t{65}, kMiB + 3}) {
    void* p = alloc.allocate(n);
    EXPECT_TRUE(aligned(p)) << p;
    alloc.deallocate(p);
  }
}

TEST(CpuCachingAllocator, DoubleFreeForeignPointersAndHugeRequestsAreErrors) {
  CpuCachingAllocator alloc(64 * kMiB);
  void* a = alloc.allocate(256);
  alloc.deallocate(a);
  EXPECT_THROW(alloc.deallocate(a), Error);
  int local = 0;
  EXPECT_THROW(alloc.deallocate(&local), Error);
  EXPECT_THROW(alloc.allocate(~size_t{0} - 10), Error);  // would round around to a tiny block
  alloc.deallocate(nullptr);                             // a no-op, like free
}

TEST(CpuCachingAllocator, ConcurrentAllocateAndFree) {
  CpuCachingAllocator alloc(8 * kMiB);  // small enough that eviction runs concurrently too
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<unsigned char*, size_t>> live;
      for (int r = 0; r < kRounds; ++r) {
        size_t n = size_t{64} << ((r * 7 + t) % 16);  // 64 B .. 2 MiB
        auto* p = static_cast<unsigned char*>(alloc.allocate(n));
        std::memset(p, t + 1, n);
        live.emplace_back(p, n);
        if (live.size() > 3) {
          // Free the oldest after checking nobody else wrote into it.
          auto [q, m] = live.front();
          if (q[0] != t + 1 || q[m - 1] != t + 1) ++failures[t];
          alloc.deallocate(q);
          live.erase(live.begin());
        }
      }
      for (auto [q, m] : live) alloc.deallocate(q);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  MemoryStats s = alloc.stats();
  EXPECT_EQ(s.allocated, 0);
  EXPECT_EQ(s.num_allocs, kThreads * kRounds);
  EXPECT_GT(s.num_cache_hits, 0);
  EXPECT_LE(s.reserved, static_cast<int64_t>(8 * kMiB));
}

// Tensors release their storage through the process-wide allocator from any thread.
TEST(CpuCachingAllocator, TensorStoragesFreedFromOtherThreads) {
  MemoryStats before = backend(DeviceType::cpu).memory_stats(Device::cpu());
  {
    std::vector<Tensor> tensors;
    for (int i = 0; i < 8; ++i) tensors.push_back(ops::zeros({1024, 64}, DType::f32));
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < 8; i += 2) tensors[i] = Tensor();
      });
    }
    for (auto& th : threads) th.join();
  }
  MemoryStats after = backend(DeviceType::cpu).memory_stats(Device::cpu());
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.num_allocs - before.num_allocs, 8);
  if (cpu_allocator().cache_limit() > 0) {
    // The same shape comes back from the cache.
    Tensor t = ops::zeros({1024, 64}, DType::f32);
    EXPECT_EQ(backend(DeviceType::cpu).memory_stats(Device::cpu()).num_cache_hits,
              after.num_cache_hits + 1);
  }
}

}  // namespace
}  // namespace osprey
