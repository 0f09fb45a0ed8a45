#include "framework/core/backend.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "framework/core/error.h"
#include "framework/core/storage.h"

namespace osprey {
namespace {

// Host memory, 64-byte aligned so that AVX-512 loads of a whole tensor start on a cache line.
class CpuBackend final : public Backend {
 public:
  CpuBackend() {
#if defined(__GLIBC__)
    // A training step frees and reallocates the same large activations every step. glibc serves
    // blocks above its mmap threshold with fresh mappings and trims the heap's top on free, so
    // each step faulted its activations in (zeroed pages) again: ~90k page faults and ~12% of a
    // ResNet-50 batch-8 step's CPU time (docs/performance.md). Serving blocks up to 32 MiB
    // (glibc's largest threshold) from the heap and not trimming it keeps freed blocks for
    // reuse, as a caching allocator would; the heap then holds the peak working set.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
  }
  DeviceType type() const override { return DeviceType::cpu; }
  int device_count() const override { return 1; }
  void* allocate(size_t nbytes, Device) override {
    size_t rounded = (nbytes + 63) / 64 * 64;
    void* ptr = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!ptr) OSPREY_THROW(value, "out of host memory allocating {} bytes", nbytes);
    return ptr;
  }
  void deallocate(void* ptr, size_t, Device) override { std::free(ptr); }
  void copy(void* dst, Device, const void* src, Device, size_t nbytes) override {
    if (nbytes) std::memcpy(dst, src, nbytes);
  }
  void synchronize(Device) override {}
};

Backend*& slot(DeviceType type) {
  static Backend* slots[kNumDeviceTypes] = {nullptr, nullptr};
  return slots[static_cast<int>(type)];
}

}  // namespace

Backend& backend(DeviceType type) {
  if (type == DeviceType::cpu && !slot(type)) {
    static CpuBackend cpu;
    slot(type) = &cpu;
  }
  Backend* b = slot(type);
  if (!b) {
    OSPREY_THROW(device, "no {} backend in this build (configure with -DOSPREY_CUDA=ON)",
                 device_type_name(type));
  }
  return *b;
}

bool has_backend(DeviceType type) {
  return type == DeviceType::cpu || slot(type) != nullptr;
}

void register_backend(Backend* b) {
  slot(b->type()) = b;
}

int cuda_device_count() {
  return has_backend(DeviceType::cuda) ? backend(DeviceType::cuda).device_count() : 0;
}

bool cuda_available() {
  return cuda_device_count() > 0;
}

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend(device.type).allocate(nbytes, device);
}

Storage::~Storage() {
  if (data_) backend(device_.type).deallocate(data_, nbytes_, device_);
}

}  // namespace osprey
