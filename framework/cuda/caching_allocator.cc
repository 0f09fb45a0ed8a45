#include "framework/cuda/caching_allocator.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "framework/core/error.h"

namespace osprey::cuda {
namespace {

size_t round_up(size_t n, size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

}  // namespace

bool CachingAllocator::BlockOrder::operator()(const Block* a, const Block* b) const {
  std::less<const void*> before;
  if (a->stream != b->stream) return before(a->stream, b->stream);
  if (a->size != b->size) return a->size < b->size;
  return before(a->ptr, b->ptr);
}

CachingAllocator::CachingAllocator(std::unique_ptr<RawMemory> raw) : raw_(std::move(raw)) {}

CachingAllocator::~CachingAllocator() {
  std::vector<Block*> all(small_pool_.begin(), small_pool_.end());
  all.insert(all.end(), large_pool_.begin(), large_pool_.end());
  for (auto& [ptr, block] : in_use_) all.push_back(block);
  for (Block* b : all) {
    if (!b->prev) raw_->release(b->ptr);
  }
  for (Block* b : all) delete b;
}

CachingAllocator::Block* CachingAllocator::find_free(Pool& pool, const void* stream, size_t size) {
  Block key{stream, size, nullptr, false, false};
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* block = *it;
  pool.erase(it);
  return block;
}

CachingAllocator::Block* CachingAllocator::new_segment(size_t size, const void* stream,
                                                       bool small) {
  size_t segment =
      small ? kSmallSegment
            : (size < kMinLargeSegmentRequest ? kLargeSegment : round_up(size, kSmallSegment));
  void* ptr = raw_->allocate(segment);
  if (!ptr) {
    release_free_segments();
    ptr = raw_->allocate(segment);
  }
  if (!ptr) {
    OSPREY_THROW(cuda,
                 "out of device memory allocating {} bytes (segment of {}): {} bytes allocated, "
                 "{} reserved by Osprey's caching allocator",
                 size, segment, stats_.allocated, stats_.reserved);
  }
  stats_.reserved += static_cast<int64_t>(segment);
  stats_.peak_reserved = std::max(stats_.peak_reserved, stats_.reserved);
  ++stats_.num_device_allocs;
  return new Block{stream, segment, static_cast<char*>(ptr), false, small};
}

void* CachingAllocator::allocate(size_t nbytes, const void* stream) {
  size_t size = round_up(std::max<size_t>(nbytes, 1), kRound);
  bool small = size <= kSmallRequest;
  std::lock_guard<std::mutex> lock(mutex_);
  Pool& pool = small ? small_pool_ : large_pool_;
  ++stats_.num_allocs;
  Block* block = find_free(pool, stream, size);
  if (block) {
    ++stats_.num_cache_hits;
  } else {
    block = new_segment(size, stream, small);
  }
  size_t remaining = block->size - size;
  if (small ? remaining >= kRound : remaining > kSmallRequest) {
    Block* rest = new Block{stream, remaining, block->ptr + size, false, small};
    rest->prev = block;
    rest->next = block->next;
    if (block->next) block->next->prev = rest;
    block->next = rest;
    block->size = size;
    pool.insert(rest);
  }
  block->allocated = true;
  in_use_[block->ptr] = block;
  stats_.allocated += static_cast<int64_t>(block->size);
  stats_.peak_allocated = std::max(stats_.peak_allocated, stats_.allocated);
  return block->ptr;
}

void CachingAllocator::try_merge(Block* block, Block* neighbour, Pool& pool) {
  if (!neighbour || neighbour->allocated) return;
  pool.erase(neighbour);
  if (neighbour == block->prev) {
    block->ptr = neighbour->ptr;
    block->prev = neighbour->prev;
    if (block->prev) block->prev->next = block;
  } else {
    block->next = neighbour->next;
    if (block->next) block->next->prev = block;
  }
  block->size += neighbour->size;
  delete neighbour;
}

void CachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = in_use_.find(ptr);
  OSPREY_CHECK_KIND(internal, it != in_use_.end(),
                    "CUDA caching allocator: freeing {} which it did not allocate", ptr);
  Block* block = it->second;
  in_use_.erase(it);
  block->allocated = false;
  stats_.allocated -= static_cast<int64_t>(block->size);
  Pool& pool = block->small ? small_pool_ : large_pool_;
  try_merge(block, block->prev, pool);
  try_merge(block, block->next, pool);
  pool.insert(block);
}

void CachingAllocator::release_free_segments() {
  for (Pool* pool : {&small_pool_, &large_pool_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* b = *it;
      if (b->prev || b->next) {
        ++it;
        continue;
      }
      raw_->release(b->ptr);
      stats_.reserved -= static_cast<int64_t>(b->size);
      ++stats_.num_device_frees;
      it = pool->erase(it);
      delete b;
    }
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_free_segments();
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated = stats_.allocated;
  stats_.peak_reserved = stats_.reserved;
}

}  // namespace osprey::cuda
