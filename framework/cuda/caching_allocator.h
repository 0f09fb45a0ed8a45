// The caching allocator behind every CUDA tensor. cudaMalloc and cudaFree synchronise the device
// and cost tens of microseconds, so memory is obtained from the device in segments and kept after
// tensors release it:
//   - requests are rounded up to 512 bytes; requests up to 1 MiB come from 2 MiB segments (the
//     small pool), larger ones from segments of 20 MiB (requests under 10 MiB) or the request
//     rounded up to 2 MiB (the large pool);
//   - each pool keeps its free blocks ordered by (stream, size, address): a request takes the
//     smallest free block of its stream that fits (best fit), and the remainder of a split block
//     stays in the pool when it is worth keeping (>= 512 bytes small, > 1 MiB large);
//   - a freed block merges with free neighbours of its segment and returns to its stream's pool,
//     so reuse on the same stream needs no synchronisation;
//   - when the device is out of memory, cached segments are released and the request retried;
//   - empty_cache() returns every wholly free segment to the device.
// The device side is a RawMemory, so the bookkeeping can be tested with host memory.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "framework/core/backend.h"

namespace osprey::cuda {

// Where segments come from: cudaMalloc for devices, malloc in tests.
class RawMemory {
 public:
  virtual ~RawMemory() = default;
  // nullptr when out of memory; other failures throw.
  virtual void* allocate(size_t nbytes) = 0;
  virtual void release(void* ptr) = 0;
};

class CachingAllocator {
 public:
  static constexpr size_t kRound = 512;
  static constexpr size_t kSmallRequest = size_t{1} << 20;
  static constexpr size_t kSmallSegment = size_t{2} << 20;
  static constexpr size_t kLargeSegment = size_t{20} << 20;
  static constexpr size_t kMinLargeSegmentRequest = size_t{10} << 20;

  explicit CachingAllocator(std::unique_ptr<RawMemory> raw);
  // Returns every segment to the RawMemory (blocks still in use included).
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // A block of at least nbytes (512-byte aligned) for use on `stream`. Throws an error of kind
  // cuda with the accounting when the device is out of memory even after emptying the cache.
  void* allocate(size_t nbytes, const void* stream);
  void deallocate(void* ptr);
  void empty_cache();
  MemoryStats stats() const;
  void reset_peak_stats();

 private:
  struct Block {
    const void* stream;
    size_t size;
    char* ptr;
    bool allocated = false;
    bool small;
    Block* prev = nullptr;  // neighbours within the same segment
    Block* next = nullptr;
  };
  struct BlockOrder {
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, BlockOrder>;

  Block* find_free(Pool& pool, const void* stream, size_t size);
  Block* new_segment(size_t size, const void* stream, bool small);
  void release_free_segments();  // the lock is held
  void try_merge(Block* block, Block* neighbour, Pool& pool);

  std::unique_ptr<RawMemory> raw_;
  mutable std::mutex mutex_;
  Pool small_pool_;
  Pool large_pool_;
  std::unordered_map<void*, Block*> in_use_;
  MemoryStats stats_;
};

}  // namespace osprey::cuda
