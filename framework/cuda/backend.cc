// The CUDA Backend: memory from each device's caching allocator, on the current stream; copies
// through pinned staging (host) or cudaMemcpyPeerAsync (device to device). Registered at static
// initialisation; with no driver or no device it reports 0 devices and allocates nothing.
#include "framework/core/backend.h"

#include "framework/cuda/context.h"
#include "framework/cuda/memory.h"

namespace osprey::cuda {
namespace {

class CudaBackend final : public Backend {
 public:
  DeviceType type() const override { return DeviceType::cuda; }
  int device_count() const override { return cuda::device_count(); }

  void* allocate(size_t nbytes, Device device) override {
    check(device);
    return device_allocator(device.index).allocate(nbytes, current_stream(device.index));
  }

  void deallocate(void* ptr, size_t, Device device) override {
    device_allocator(device.index).deallocate(ptr);
  }

  void copy(void* dst, Device dst_device, const void* src, Device src_device,
            size_t nbytes) override {
    if (nbytes == 0) return;
    if (dst_device.is_cuda() && src_device.is_cuda()) {
      check(dst_device);
      check(src_device);
      DeviceGuard guard(dst_device.index);
      cudaStream_t stream = current_stream(dst_device.index);
      if (dst_device.index == src_device.index) {
        OSPREY_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream));
      } else {
        // The destination's stream must not run ahead of the source's pending writes.
        Event ready;
        {
          DeviceGuard source_guard(src_device.index);
          ready.record(current_stream(src_device.index));
        }
        ready.wait(stream);
        OSPREY_CUDA_CHECK(
            cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, stream));
      }
    } else if (dst_device.is_cuda()) {
      check(dst_device);
      DeviceGuard guard(dst_device.index);
      copy_host_to_device(dst, src, nbytes, current_stream(dst_device.index));
    } else {
      check(src_device);
      DeviceGuard guard(src_device.index);
      copy_device_to_host(dst, src, nbytes, current_stream(src_device.index));
    }
  }

  void synchronize(Device device) override {
    if (!device.is_cuda()) return;
    check(device);
    DeviceGuard guard(device.index);
    OSPREY_CUDA_CHECK(cudaStreamSynchronize(current_stream(device.index)));
  }

  MemoryStats memory_stats(Device device) const override {
    check(device);
    return device_allocator(device.index).stats();
  }
  void reset_peak_stats(Device device) override {
    check(device);
    device_allocator(device.index).reset_peak_stats();
  }
  void empty_cache(Device device) override {
    check(device);
    device_allocator(device.index).empty_cache();
  }

 private:
  static void check(Device device) {
    int count = cuda::device_count();
    OSPREY_CHECK_KIND(device, device.is_cuda() && device.index >= 0 && device.index < count,
                      "{} is not available ({} CUDA device(s) present)", device.str(), count);
  }
};

// Never destroyed: tensors in static storage may free memory while the process exits.
const bool registered = [] {
  register_backend(new CudaBackend());
  return true;
}();

}  // namespace
}  // namespace osprey::cuda
