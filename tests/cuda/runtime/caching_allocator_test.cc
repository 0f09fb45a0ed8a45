// The caching allocator's bookkeeping, run on host memory so that it is tested without a GPU.
#include "framework/cuda/caching_allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "framework/core/error.h"

namespace osprey::cuda {
namespace {

// Host memory with a budget, counting what the allocator asks for.
class HostMemory final : public RawMemory {
 public:
  HostMemory(size_t budget, int* live) : budget_(budget), live_(live) {}
  void* allocate(size_t nbytes) override {
    if (used_ + nbytes > budget_) return nullptr;
    void* ptr = std::aligned_alloc(512, nbytes);
    used_ += nbytes;
    sizes_[ptr] = nbytes;
    ++*live_;
    return ptr;
  }
  void release(void* ptr) override {
    used_ -= sizes_.at(ptr);
    sizes_.erase(ptr);
    --*live_;
    std::free(ptr);
  }

 private:
  size_t budget_;
  size_t used_ = 0;
  int* live_;
  std::map<void*, size_t> sizes_;
};

constexpr size_t kMiB = size_t{1} << 20;
const void* const kStreamA = nullptr;
const void* const kStreamB = reinterpret_cast<const void*>(0x1);

struct AllocatorTest : ::testing::Test {
  int live = 0;
  CachingAllocator allocator{std::make_unique<HostMemory>(size_t{256} * kMiB, &live)};
};

TEST_F(AllocatorTest, RoundsRequestsAndCountsStatistics) {
  void* p = allocator.allocate(1000, kStreamA);
  auto s = allocator.stats();
  EXPECT_EQ(s.allocated, 1024);
  EXPECT_EQ(s.reserved, static_cast<int64_t>(CachingAllocator::kSmallSegment));
  EXPECT_EQ(s.num_device_allocs, 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 512, 0u);
  allocator.deallocate(p);
  s = allocator.stats();
  EXPECT_EQ(s.allocated, 0);
  EXPECT_EQ(s.peak_allocated, 1024);
  EXPECT_EQ(s.reserved, static_cast<int64_t>(CachingAllocator::kSmallSegment));
}

TEST_F(AllocatorTest, ReusesFreedBlocksWithoutNewSegments) {
  void* p = allocator.allocate(4096, kStreamA);
  allocator.deallocate(p);
  void* q = allocator.allocate(4096, kStreamA);
  EXPECT_EQ(p, q);
  auto s = allocator.stats();
  EXPECT_EQ(s.num_device_allocs, 1);
  EXPECT_EQ(s.num_cache_hits, 1);
  EXPECT_EQ(s.num_allocs, 2);
  allocator.deallocate(q);
}

TEST_F(AllocatorTest, SplitsSegmentsAndMergesOnFree) {
  char* a = static_cast<char*>(allocator.allocate(1024, kStreamA));
  char* b = static_cast<char*>(allocator.allocate(1024, kStreamA));
  EXPECT_EQ(b, a + 1024);  // the rest of a's segment
  EXPECT_EQ(allocator.stats().num_device_allocs, 1);
  allocator.deallocate(a);
  allocator.deallocate(b);
  // Merged back into one 2 MiB block: a 1 MiB request fits without a new segment.
  void* c = allocator.allocate(kMiB, kStreamA);
  EXPECT_EQ(c, a);
  EXPECT_EQ(allocator.stats().num_device_allocs, 1);
  allocator.deallocate(c);
}

TEST_F(AllocatorTest, LargeRequestsUseLargeSegments) {
  void* p = allocator.allocate(3 * kMiB, kStreamA);
  EXPECT_EQ(allocator.stats().reserved, static_cast<int64_t>(CachingAllocator::kLargeSegment));
  void* q = allocator.allocate(5 * kMiB, kStreamA);  // from the remainder of the 20 MiB segment
  EXPECT_EQ(allocator.stats().num_device_allocs, 1);
  void* big = allocator.allocate(33 * kMiB, kStreamA);  // own segment, rounded to 2 MiB
  EXPECT_EQ(allocator.stats().reserved,
            static_cast<int64_t>(CachingAllocator::kLargeSegment + 34 * kMiB));
  allocator.deallocate(p);
  allocator.deallocate(q);
  allocator.deallocate(big);
}

TEST_F(AllocatorTest, FreeBlocksStayWithTheirStream) {
  void* p = allocator.allocate(4096, kStreamA);
  allocator.deallocate(p);
  void* q = allocator.allocate(4096, kStreamB);
  EXPECT_NE(p, q);
  EXPECT_EQ(allocator.stats().num_device_allocs, 2);
  allocator.deallocate(q);
}

TEST_F(AllocatorTest, EmptyCacheReleasesOnlyWhollyFreeSegments) {
  void* kept = allocator.allocate(4096, kStreamA);
  void* freed = allocator.allocate(3 * kMiB, kStreamA);
  allocator.deallocate(freed);
  EXPECT_EQ(live, 2);
  allocator.empty_cache();
  EXPECT_EQ(live, 1);  // the small segment still holds `kept`
  auto s = allocator.stats();
  EXPECT_EQ(s.reserved, static_cast<int64_t>(CachingAllocator::kSmallSegment));
  EXPECT_EQ(s.num_device_frees, 1);
  allocator.deallocate(kept);
  allocator.empty_cache();
  EXPECT_EQ(live, 0);
  EXPECT_EQ(allocator.stats().reserved, 0);
}

TEST_F(AllocatorTest, ReleasesCacheWhenOutOfMemoryThenThrows) {
  void* a = allocator.allocate(200 * kMiB, kStreamA);
  allocator.deallocate(a);
  // The cached 200 MiB segment is on another stream's pool: it must be released to fit this one.
  void* b = allocator.allocate(100 * kMiB, kStreamB);
  EXPECT_EQ(allocator.stats().num_device_frees, 1);
  try {
    allocator.allocate(200 * kMiB, kStreamA);
    FAIL() << "expected an out-of-memory error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cuda);
    EXPECT_NE(std::string(e.what()).find("out of device memory"), std::string::npos) << e.what();
  }
  allocator.deallocate(b);
}

TEST_F(AllocatorTest, PeakStatisticsReset) {
  void* a = allocator.allocate(8 * kMiB, kStreamA);
  allocator.deallocate(a);
  EXPECT_EQ(allocator.stats().peak_allocated, static_cast<int64_t>(8 * kMiB));
  allocator.reset_peak_stats();
  EXPECT_EQ(allocator.stats().peak_allocated, 0);
}

TEST_F(AllocatorTest, FreeingForeignPointerIsAnError) {
  int x = 0;
  EXPECT_THROW(allocator.deallocate(&x), Error);
}

}  // namespace
}  // namespace osprey::cuda
