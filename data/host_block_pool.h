// Reused host memory for collated batches. A batch of VOC-sized images is ~12 MB; fresh memory
// for each would be mapped and zero-filled page by page by the kernel, which costs about as much as
// writing the batch, and pinned memory (for asynchronous device uploads) is expensive to allocate.
// So the loader takes each batch's block from this pool and the block comes back when the last
// tensor viewing it is gone (the shared_ptr's deleter): the working set is the blocks in flight,
// bounded by the prefetch depth plus what the consumer holds.
//
// With `pinned` set and a backend that can pin memory (CUDA with a device present), blocks are
// page-locked (registered with the backend); otherwise they are ordinary host memory of the CPU
// backend. Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "framework/core/storage.h"

namespace osprey::data {

class HostBlockPool {
 public:
  // Keeps at most `max_free` unused blocks; more are given back as they return.
  HostBlockPool(size_t max_free, bool pinned);
  ~HostBlockPool();
  HostBlockPool(const HostBlockPool&) = delete;
  HostBlockPool& operator=(const HostBlockPool&) = delete;

  // At least nbytes of CPU memory from byte `offset` of `storage` on (64-byte aligned).
  struct Block {
    std::shared_ptr<Storage> storage;
    size_t offset = 0;
    size_t size = 0;  // usable bytes from offset
    void* data() const { return static_cast<char*>(storage->data()) + offset; }
  };
  // A free block of at least nbytes and at most about twice that, or a new one. Pinned blocks are
  // whole pages of their own (an offset past the allocation's first page boundary), since CUDA
  // cannot register a page twice and the heap may put two blocks on one page.
  Block acquire(size_t nbytes);
  bool pinned() const;
  size_t blocks_allocated() const;  // blocks ever allocated (for tests and benchmarks)
  size_t free_blocks() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the release functions of blocks handed out
};

}  // namespace osprey::data
