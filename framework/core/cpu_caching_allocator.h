// The caching allocator behind every CPU tensor. glibc serves blocks above its mmap threshold with
// fresh mmaps and unmaps them on free, so a tensor of a few hundred MB allocated per call pays a
// page fault per 4 KiB page every time (about 40% of roi_align's CPU forward, 4% of a ResNet-50
// training step). This allocator keeps freed blocks and hands them back to later requests of
// about the same size, whose pages are then already resident:
//   - requests are rounded to size classes: multiples of 64 bytes below 1 MiB (tensors of a
//     training step repeat exactly, so fine classes lose nothing), above that 8 classes per power
//     of two (at most 12.5% rounding; the untouched tail of a large block is never faulted in, so
//     the rounding costs address space and cap accounting, not resident memory);
//   - a request takes the smallest cached block of at least its class and at most 5/4 of it
//     (best fit; a big block is not spent on a small tensor);
//   - freed blocks are cached until the cached bytes exceed the cap; then the oldest cached
//     blocks are released first. A block larger than the whole cap is released at once;
//   - when the system is out of memory, the cache is emptied and the request retried once;
//   - the lock covers only the bookkeeping: std::aligned_alloc and std::free run outside it.
// There are no per-thread caches: kernels free and allocate from OpenMP workers, and one short
// lock is cheap next to the tensors' own work.
//
// The cap is OSPREY_CPU_CACHE_BYTES (bytes, optional suffix K, M or G; 0 disables caching), by
// default a quarter of physical memory. Under AddressSanitizer the default is 0, so that ASan
// sees each tensor's use after free as such; setting the variable turns the cache back on there,
// and cached blocks are then poisoned, so a use after free still fails (as use-after-poison).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "framework/core/backend.h"

namespace osprey {

class CpuCachingAllocator {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kSmallLimit = size_t{1} << 20;  // 64-byte classes below this

  explicit CpuCachingAllocator(size_t cache_limit);
  // Releases the cached blocks; blocks still in use stay with their owners.
  ~CpuCachingAllocator();
  CpuCachingAllocator(const CpuCachingAllocator&) = delete;
  CpuCachingAllocator& operator=(const CpuCachingAllocator&) = delete;

  // A 64-byte aligned block of at least nbytes (a valid, distinct block for nbytes == 0). Throws
  // an error of kind value when the host is out of memory even after emptying the cache.
  void* allocate(size_t nbytes);
  // Returns a block from allocate(); throws on a pointer this allocator does not own (a double
  // free or a foreign pointer).
  void deallocate(void* ptr);
  // Releases every cached block to the system.
  void empty_cache();
  // allocated: bytes of blocks in use (rounded to classes); reserved: in use + cached (so the
  // cached bytes are reserved − allocated); num_allocs − num_cache_hits are the misses;
  // num_device_allocs / num_device_frees count aligned_alloc / free calls.
  MemoryStats stats() const;
  void reset_peak_stats();
  size_t cache_limit() const;
  // A new cap; shrinking it evicts the oldest cached blocks at once.
  void set_cache_limit(size_t bytes);

  // The class a request of nbytes is rounded to.
  static size_t size_class(size_t nbytes);
  // The cap from OSPREY_CPU_CACHE_BYTES, or the default described above.
  static size_t cache_limit_from_environment();

 private:
  struct Cached {
    void* ptr;
    size_t size;
  };
  using Age = std::list<Cached>;  // oldest first

  // Unlinks cached blocks until the cached bytes fit `limit`; the caller frees them unlocked.
  void evict_to(size_t limit, std::vector<void*>& released);
  // Unlinks a cached block from both indexes.
  void unlink(Age::iterator it);
  void free_all(const std::vector<void*>& blocks);

  mutable std::mutex mutex_;
  size_t cache_limit_;
  size_t cached_bytes_ = 0;
  Age by_age_;
  std::multimap<size_t, Age::iterator> by_size_;
  std::unordered_map<void*, size_t> in_use_;  // block → its size
  MemoryStats stats_;
};

// The allocator of the CPU backend (its cap read from the environment at first use).
CpuCachingAllocator& cpu_allocator();

}  // namespace osprey
