#include "data/host_block_pool.h"

#include <algorithm>
#include <cstdint>

#include "framework/core/backend.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace {
constexpr size_t kPage = 4096;
}  // namespace

// Blocks are Storage objects of the CPU backend, handed out through shared_ptrs whose deleter
// returns the Storage to the pool instead of destroying it.
struct HostBlockPool::State {
  struct Free {
    Storage* storage;
    size_t offset, size;
  };
  std::mutex mutex;
  std::vector<Free> free;
  size_t max_free = 0;
  bool pinned = false;  // fixed at construction
  bool closed = false;  // the pool is gone: returning blocks are destroyed
  size_t allocated = 0;

  void destroy(Storage* storage, size_t offset) const {
    if (pinned) backend(DeviceType::cuda).unpin_host(static_cast<char*>(storage->data()) + offset);
    delete storage;
  }
};

HostBlockPool::HostBlockPool(size_t max_free, bool pinned) : state_(std::make_shared<State>()) {
  state_->max_free = max_free;
  state_->pinned = pinned && has_backend(DeviceType::cuda) && cuda_available();
}

HostBlockPool::~HostBlockPool() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (const State::Free& f : state_->free) state_->destroy(f.storage, f.offset);
  state_->free.clear();
  state_->closed = true;
}

HostBlockPool::Block HostBlockPool::acquire(size_t nbytes) {
  State::Free block{nullptr, 0, 0};
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    auto& free = state_->free;
    auto best = free.end();
    for (auto it = free.begin(); it != free.end(); ++it) {
      if (it->size >= nbytes && it->size <= 2 * nbytes + kPage &&
          (best == free.end() || it->size < best->size)) {
        best = it;
      }
    }
    if (best != free.end()) {
      block = *best;
      free.erase(best);
    }
  }
  if (!block.storage) {
    // A little headroom, so that the next batch of slightly larger images still fits.
    block.size = std::max<size_t>(nbytes + nbytes / 8, kPage);
    if (state_->pinned) {
      block.size = (block.size + kPage - 1) / kPage * kPage;
      auto storage = std::make_unique<Storage>(block.size + kPage, Device::cpu());
      const auto address = reinterpret_cast<uintptr_t>(storage->data());
      block.offset = (kPage - address % kPage) % kPage;
      OSPREY_CHECK_KIND(
          device,
          backend(DeviceType::cuda)
              .pin_host(static_cast<char*>(storage->data()) + block.offset, block.size),
          "cannot pin a {}-byte batch block", block.size);
      block.storage = storage.release();
    } else {
      block.storage = new Storage(block.size, Device::cpu());
    }
    std::lock_guard<std::mutex> lock(state_->mutex);
    ++state_->allocated;
  }
  std::shared_ptr<State> state = state_;
  Block out;
  out.offset = block.offset;
  out.size = block.size;
  out.storage = std::shared_ptr<Storage>(block.storage, [state, block](Storage* storage) {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->closed || state->free.size() >= state->max_free) {
      state->destroy(storage, block.offset);
    } else {
      state->free.push_back({storage, block.offset, block.size});
    }
  });
  return out;
}

bool HostBlockPool::pinned() const {
  return state_->pinned;
}

size_t HostBlockPool::blocks_allocated() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->allocated;
}

size_t HostBlockPool::free_blocks() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->free.size();
}

}  // namespace osprey::data
