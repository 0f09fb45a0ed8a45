#include "framework/core/backend.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "framework/core/cpu_caching_allocator.h"
#include "framework/core/error.h"
#include "framework/core/storage.h"

namespace osprey {
namespace {

// Host memory, 64-byte aligned so that AVX-512 loads of a whole tensor start on a cache line,
// from the CPU caching allocator.
class CpuBackend final : public Backend {
 public:
  DeviceType type() const override { return DeviceType::cpu; }
  int device_count() const override { return 1; }
  void* allocate(size_t nbytes, Device) override { return cpu_allocator().allocate(nbytes); }
  void deallocate(void* ptr, size_t, Device) override { cpu_allocator().deallocate(ptr); }
  void copy(void* dst, Device, const void* src, Device, size_t nbytes) override {
    if (nbytes) std::memcpy(dst, src, nbytes);
  }
  void synchronize(Device) override {}
  MemoryStats memory_stats(Device) const override { return cpu_allocator().stats(); }
  void reset_peak_stats(Device) override { cpu_allocator().reset_peak_stats(); }
  void empty_cache(Device) override { cpu_allocator().empty_cache(); }
};

Backend*& slot(DeviceType type) {
  static Backend* slots[kNumDeviceTypes] = {nullptr, nullptr};
  return slots[static_cast<int>(type)];
}

}  // namespace

CpuCachingAllocator& cpu_allocator() {
  // Never destroyed: tensors held in static objects may release their storage after every other
  // static is gone, and the system takes the cached blocks back at exit anyway.
  static CpuCachingAllocator* allocator =
      new CpuCachingAllocator(CpuCachingAllocator::cache_limit_from_environment());
  return *allocator;
}

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
