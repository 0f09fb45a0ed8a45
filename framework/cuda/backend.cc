// The CUDA Backend: memory from each device's caching allocator, on the current stream; copies
// through pinned staging (host) or cudaMemcpyPeerAsync (device to device). Registered at static
// initialisation; with no driver or no device it reports 0 devices and allocates nothing.
// Also pinned host memory and the copy streams of batch uploads (UploadStream).
#include "framework/core/backend.h"

#include <atomic>

#include "framework/cuda/context.h"
#include "framework/cuda/memory.h"

namespace osprey::cuda {
namespace {

class CudaEvent final : public DeviceEvent {
 public:
  bool done() const override { return event.query(); }
  void synchronize() const override { event.synchronize(); }
  Event event;
};

const Event& cuda_event(const DeviceEvent& event) {
  return static_cast<const CudaEvent&>(event).event;
}

// A non-blocking stream of its own: copies on it neither wait for nor hold up the compute streams
// except where an event says so.
class CudaUploadStream final : public UploadStream {
 public:
  explicit CudaUploadStream(int device) : device_(device), stream_(device) {}
  Device device() const override { return Device::cuda(device_); }
  std::unique_ptr<DeviceEvent> record_current() override {
    DeviceGuard guard(device_);
    auto event = std::make_unique<CudaEvent>();
    event->event.record(current_stream(device_));
    return event;
  }
  void wait(const DeviceEvent& event) override {
    DeviceGuard guard(device_);
    cuda_event(event).wait(stream_.get());
  }
  void copy_to_device(void* dst, const void* src, size_t nbytes) override {
    if (nbytes == 0) return;
    DeviceGuard guard(device_);
    OSPREY_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream_.get()));
    bytes_ += nbytes;
  }
  std::unique_ptr<DeviceEvent> record() override {
    DeviceGuard guard(device_);
    auto event = std::make_unique<CudaEvent>();
    event->event.record(stream_.get());
    return event;
  }
  void wait_current(const DeviceEvent& event) override {
    DeviceGuard guard(device_);
    cuda_event(event).wait(current_stream(device_));
  }
  const void* native_handle() const override { return stream_.get(); }
  size_t bytes_copied() const override { return bytes_; }

 private:
  int device_;
  Stream stream_;
  std::atomic<size_t> bytes_{0};
};

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
  bool pin_host(void* ptr, size_t nbytes) override {
    if (cuda::device_count() == 0 || nbytes == 0) return false;
    OSPREY_CUDA_CHECK(cudaHostRegister(ptr, nbytes, cudaHostRegisterDefault));
    return true;
  }
  void unpin_host(void* ptr) override { OSPREY_CUDA_CHECK(cudaHostUnregister(ptr)); }
  std::unique_ptr<UploadStream> make_upload_stream(Device device) override {
    check(device);
    return std::make_unique<CudaUploadStream>(device.index);
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
