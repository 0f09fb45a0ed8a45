#include "data/host_block_pool.h"

#include <algorithm>

#include "framework/core/backend.h"
#include "framework/core/error.h"

namespace osprey::data {

// Blocks are Storage objects of the CPU backend, handed out through shared_ptrs whose deleter
// returns the Storage to the pool instead of destroying it.
struct HostBlockPool::State {
  std::mutex mutex;
  std::vector<Storage*> free;
  size_t max_free = 0;
  bool pinned = false;  // fixed at construction
  bool closed = false;  // the pool is gone: returning blocks are destroyed
  size_t allocated = 0;

  void destroy(Storage* storage) const {
    if (pinned) backend(DeviceType::cuda).unpin_host(storage->data());
    delete storage;
  }
};

HostBlockPool::HostBlockPool(size_t max_free, bool pinned) : state_(std::make_shared<State>()) {
  state_->max_free = max_free;
  state_->pinned = pinned && has_backend(DeviceType::cuda) && cuda_available();
}

HostBlockPool::~HostBlockPool() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (Storage* storage : state_->free) state_->destroy(storage);
  state_->free.clear();
  state_->closed = true;
}

std::shared_ptr<Storage> HostBlockPool::acquire(size_t nbytes) {
  Storage* block = nullptr;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    auto& free = state_->free;
    auto best = free.end();
    for (auto it = free.begin(); it != free.end(); ++it) {
      const size_t size = (*it)->nbytes();
      if (size >= nbytes && size <= 2 * nbytes + 4096 &&
          (best == free.end() || size < (*best)->nbytes())) {
        best = it;
      }
    }
    if (best != free.end()) {
      block = *best;
      free.erase(best);
    }
  }
  if (!block) {
    // A little headroom, so that the next batch of slightly larger images still fits.
    auto storage =
        std::make_unique<Storage>(std::max<size_t>(nbytes + nbytes / 8, 4096), Device::cpu());
    if (state_->pinned) {
      OSPREY_CHECK_KIND(device,
                        backend(DeviceType::cuda).pin_host(storage->data(), storage->nbytes()),
                        "cannot pin a {}-byte batch block", storage->nbytes());
    }
    block = storage.release();
    std::lock_guard<std::mutex> lock(state_->mutex);
    ++state_->allocated;
  }
  std::shared_ptr<State> state = state_;
  return std::shared_ptr<Storage>(block, [state](Storage* storage) {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->closed || state->free.size() >= state->max_free) {
      state->destroy(storage);
    } else {
      state->free.push_back(storage);
    }
  });
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
