#include "framework/core/cpu_caching_allocator.h"

#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdlib>
#include <string>

#include "framework/core/error.h"

namespace osprey {
namespace {

#if defined(__SANITIZE_ADDRESS__)
#define OSPREY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OSPREY_ASAN 1
#endif
#endif

#if defined(OSPREY_ASAN)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// Under ASan a cached block is poisoned, so a use after free still fails when the cache is on.
void poison(void* ptr, size_t size) {
#if defined(OSPREY_ASAN)
  __asan_poison_memory_region(ptr, size);
#else
  (void)ptr, (void)size;
#endif
}

void unpoison(void* ptr, size_t size) {
#if defined(OSPREY_ASAN)
  __asan_unpoison_memory_region(ptr, size);
#else
  (void)ptr, (void)size;
#endif
}

size_t round_up(size_t n, size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

void update_peaks(MemoryStats& s) {
  s.peak_allocated = std::max(s.peak_allocated, s.allocated);
  s.peak_reserved = std::max(s.peak_reserved, s.reserved);
}

size_t parse_bytes(const char* text) {
  std::string s(text);
  size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(s, &used);
  } catch (const std::exception&) {
    OSPREY_THROW(value, "OSPREY_CPU_CACHE_BYTES='{}' is not a byte count (e.g. 0, 4096, 512M, 8G)",
                 s);
  }
  std::string suffix = s.substr(used);
  size_t scale = 1;
  if (suffix == "K" || suffix == "k") {
    scale = size_t{1} << 10;
  } else if (suffix == "M" || suffix == "m") {
    scale = size_t{1} << 20;
  } else if (suffix == "G" || suffix == "g") {
    scale = size_t{1} << 30;
  } else if (!suffix.empty()) {
    OSPREY_THROW(value, "OSPREY_CPU_CACHE_BYTES='{}': unknown suffix '{}' (use K, M or G)", s,
                 suffix);
  }
  return static_cast<size_t>(value) * scale;
}

// glibc raises its mmap threshold (up to 32 MiB) each time it frees an mmapped chunk, so that
// blocks of a size the program keeps freeing come from its heap and are reused without page
// faults. With tensors cached here, glibc never frees such a chunk, the threshold stays at
// 128 KiB, and every kernel's scratch std::vector above that was mmapped and faulted in afresh on
// each call (ResNet-18 training: twice the page faults and system time of the uncached build).
// So, once caching is on, fix the threshold where the dynamic rule would have taken it.
void tune_system_malloc() {
#if defined(__GLIBC__)
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    return true;
  }();
  (void)done;
#endif
}

// Returns free heap pages to the system (glibc keeps blocks below the mmap threshold in its heap).
void trim_system_malloc() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

CpuCachingAllocator::CpuCachingAllocator(size_t cache_limit) : cache_limit_(cache_limit) {
  if (cache_limit > 0) tune_system_malloc();
}

CpuCachingAllocator::~CpuCachingAllocator() {
  empty_cache();
}

size_t CpuCachingAllocator::size_class(size_t nbytes) {
  // Rounding a request near SIZE_MAX would wrap around to a tiny block.
  OSPREY_CHECK_KIND(value, nbytes <= (size_t{1} << 60),
                    "out of host memory: a request of {} bytes is beyond any machine", nbytes);
  if (nbytes == 0) return kAlignment;
  if (nbytes < kSmallLimit) return round_up(nbytes, kAlignment);
  // 8 classes per power of two: the step is 1/8 of the largest power of two not above nbytes.
  size_t step = std::bit_floor(nbytes) >> 3;
  return round_up(nbytes, step);
}

size_t CpuCachingAllocator::cache_limit_from_environment() {
  if (const char* text = std::getenv("OSPREY_CPU_CACHE_BYTES"); text && *text) {
    return parse_bytes(text);
  }
  if (kAddressSanitizer) return 0;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return size_t{1} << 30;
  return static_cast<size_t>(pages) * static_cast<size_t>(page_size) / 4;
}

void* CpuCachingAllocator::allocate(size_t nbytes) {
  size_t size = size_class(nbytes);
  {
    std::lock_guard lock(mutex_);
    ++stats_.num_allocs;
    // Best fit within 5/4 of the class.
    auto it = by_size_.lower_bound(size);
    if (it != by_size_.end() && it->first <= size + size / 4) {
      Age::iterator cached = it->second;
      void* ptr = cached->ptr;
      size_t block = cached->size;
      by_size_.erase(it);
      by_age_.erase(cached);
      cached_bytes_ -= block;
      unpoison(ptr, block);
      in_use_.emplace(ptr, block);
      ++stats_.num_cache_hits;
      stats_.allocated += static_cast<int64_t>(block);
      update_peaks(stats_);
      return ptr;
    }
  }
  void* ptr = std::aligned_alloc(kAlignment, size);
  if (!ptr) {
    empty_cache();
    ptr = std::aligned_alloc(kAlignment, size);
  }
  if (!ptr) {
    MemoryStats s = stats();
    OSPREY_THROW(value,
                 "out of host memory allocating {} bytes (class {}): {} bytes in use by Osprey's "
                 "CPU caching allocator",
                 nbytes, size, s.allocated);
  }
  std::lock_guard lock(mutex_);
  in_use_.emplace(ptr, size);
  ++stats_.num_device_allocs;
  stats_.allocated += static_cast<int64_t>(size);
  stats_.reserved += static_cast<int64_t>(size);
  update_peaks(stats_);
  return ptr;
}

void CpuCachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::vector<void*> released;
  {
    std::lock_guard lock(mutex_);
    auto it = in_use_.find(ptr);
    OSPREY_CHECK_KIND(value, it != in_use_.end(),
                      "CPU caching allocator: deallocate of {} which is not an allocated block "
                      "(double free or foreign pointer)",
                      ptr);
    size_t size = it->second;
    in_use_.erase(it);
    stats_.allocated -= static_cast<int64_t>(size);
    if (size > cache_limit_) {
      released.push_back(ptr);
      stats_.reserved -= static_cast<int64_t>(size);
    } else {
      poison(ptr, size);
      by_age_.push_back(Cached{ptr, size});
      by_size_.emplace(size, std::prev(by_age_.end()));
      cached_bytes_ += size;
      evict_to(cache_limit_, released);
    }
  }
  free_all(released);
}

void CpuCachingAllocator::unlink(Age::iterator it) {
  auto [first, last] = by_size_.equal_range(it->size);
  for (auto s = first; s != last; ++s) {
    if (s->second == it) {
      by_size_.erase(s);
      break;
    }
  }
  cached_bytes_ -= it->size;
  by_age_.erase(it);
}

void CpuCachingAllocator::evict_to(size_t limit, std::vector<void*>& released) {
  while (cached_bytes_ > limit && !by_age_.empty()) {
    released.push_back(by_age_.front().ptr);
    stats_.reserved -= static_cast<int64_t>(by_age_.front().size);
    unlink(by_age_.begin());
  }
}

void CpuCachingAllocator::free_all(const std::vector<void*>& blocks) {
  for (void* ptr : blocks) std::free(ptr);  // free() accepts poisoned blocks
  if (blocks.empty()) return;
  std::lock_guard lock(mutex_);
  stats_.num_device_frees += static_cast<int64_t>(blocks.size());
}

void CpuCachingAllocator::empty_cache() {
  std::vector<void*> released;
  {
    std::lock_guard lock(mutex_);
    evict_to(0, released);
  }
  free_all(released);
  trim_system_malloc();
}

MemoryStats CpuCachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CpuCachingAllocator::reset_peak_stats() {
  std::lock_guard lock(mutex_);
  stats_.peak_allocated = stats_.allocated;
  stats_.peak_reserved = stats_.reserved;
}

size_t CpuCachingAllocator::cache_limit() const {
  std::lock_guard lock(mutex_);
  return cache_limit_;
}

void CpuCachingAllocator::set_cache_limit(size_t bytes) {
  if (bytes > 0) tune_system_malloc();
  std::vector<void*> released;
  {
    std::lock_guard lock(mutex_);
    cache_limit_ = bytes;
    evict_to(cache_limit_, released);
  }
  free_all(released);
}

}  // namespace osprey
