#include "framework/cuda/memory.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "framework/cuda/context.h"

namespace osprey::cuda {
namespace {

class DeviceMemory final : public RawMemory {
 public:
  explicit DeviceMemory(int device) : device_(device) {}
  void* allocate(size_t nbytes) override {
    DeviceGuard guard(device_);
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, nbytes);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    OSPREY_CUDA_CHECK(status);
    return ptr;
  }
  void release(void* ptr) override {
    DeviceGuard guard(device_);
    OSPREY_CUDA_CHECK(cudaFree(ptr));
  }

 private:
  int device_;
};

constexpr size_t kChunk = size_t{16} << 20;
// Past this much pinned memory a copy waits for its stream to return buffers before pinning more.
constexpr size_t kPinnedSoftLimit = size_t{256} << 20;

struct StagingBuffer {
  void* ptr = nullptr;
  size_t size = 0;
  bool busy = false;
};

class StagingPool {
 public:
  StagingBuffer* acquire(size_t size, cudaStream_t stream) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        StagingBuffer* best = nullptr;
        for (auto& b : buffers_) {
          if (!b->busy && b->size >= size && (!best || b->size < best->size)) best = b.get();
        }
        if (best) {
          best->busy = true;
          return best;
        }
        if (attempt == 1 || total_ + size <= kPinnedSoftLimit) break;
      }
      OSPREY_CUDA_CHECK(
          cudaStreamSynchronize(stream));  // lets this stream's callbacks return buffers
    }
    auto buffer = std::make_unique<StagingBuffer>();
    buffer->size = std::max<size_t>(size, size_t{1} << 16);
    OSPREY_CUDA_CHECK(cudaHostAlloc(&buffer->ptr, buffer->size, cudaHostAllocDefault));
    buffer->busy = true;
    std::lock_guard<std::mutex> lock(mutex_);
    total_ += buffer->size;
    buffers_.push_back(std::move(buffer));
    return buffers_.back().get();
  }
  // Called from stream callbacks: no CUDA calls here.
  void release(StagingBuffer* buffer) {
    std::lock_guard<std::mutex> lock(mutex_);
    buffer->busy = false;
  }
  size_t total() {
    std::lock_guard<std::mutex> lock(mutex_);
    return total_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<StagingBuffer>> buffers_;
  size_t total_ = 0;
};

// Kept for the life of the process: callbacks may still run while static objects are destroyed.
StagingPool& staging_pool() {
  static auto* pool = new StagingPool();
  return *pool;
}

struct PendingHostCopy {
  void* dst;
  StagingBuffer* buffer;
  size_t nbytes;
};

void CUDART_CB finish_device_to_host(void* data) {
  auto* pending = static_cast<PendingHostCopy*>(data);
  std::memcpy(pending->dst, pending->buffer->ptr, pending->nbytes);
  staging_pool().release(pending->buffer);
  delete pending;
}

void CUDART_CB release_buffer(void* data) {
  staging_pool().release(static_cast<StagingBuffer*>(data));
}

}  // namespace

CachingAllocator& device_allocator(int device) {
  static std::once_flag once;
  static std::vector<CachingAllocator*>* allocators = nullptr;
  std::call_once(once, [] {
    allocators = new std::vector<CachingAllocator*>();
    for (int d = 0; d < device_count(); ++d) {
      allocators->push_back(new CachingAllocator(std::make_unique<DeviceMemory>(d)));
    }
  });
  OSPREY_CHECK_KIND(device, device >= 0 && device < static_cast<int>(allocators->size()),
                    "CUDA device {} does not exist ({} device(s) present)", device,
                    allocators->size());
  return *(*allocators)[device];
}

void copy_host_to_device(void* dst, const void* src, size_t nbytes, cudaStream_t stream) {
  for (size_t done = 0; done < nbytes; done += kChunk) {
    size_t n = std::min(kChunk, nbytes - done);
    StagingBuffer* buffer = staging_pool().acquire(n, stream);
    std::memcpy(buffer->ptr, static_cast<const char*>(src) + done, n);
    OSPREY_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + done, buffer->ptr, n,
                                      cudaMemcpyHostToDevice, stream));
    OSPREY_CUDA_CHECK(cudaLaunchHostFunc(stream, release_buffer, buffer));
  }
}

void copy_device_to_host(void* dst, const void* src, size_t nbytes, cudaStream_t stream) {
  for (size_t done = 0; done < nbytes; done += kChunk) {
    size_t n = std::min(kChunk, nbytes - done);
    StagingBuffer* buffer = staging_pool().acquire(n, stream);
    OSPREY_CUDA_CHECK(cudaMemcpyAsync(buffer->ptr, static_cast<const char*>(src) + done, n,
                                      cudaMemcpyDeviceToHost, stream));
    auto* pending = new PendingHostCopy{static_cast<char*>(dst) + done, buffer, n};
    OSPREY_CUDA_CHECK(cudaLaunchHostFunc(stream, finish_device_to_host, pending));
  }
}

size_t staging_bytes() {
  return staging_pool().total();
}

}  // namespace osprey::cuda
