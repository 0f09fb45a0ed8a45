// The interface a device backend (CPU, CUDA) offers to the device-independent core: memory and
// copies. The CUDA backend registers itself when it is compiled in, so the core never includes CUDA
// headers and a CPU-only build has no CUDA code at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "framework/core/device.h"

namespace osprey {

// Memory accounting of a caching backend, in bytes (allocated: handed out to tensors, rounded to
// the allocator's block sizes; reserved: held from the device, cached or not).
struct MemoryStats {
  int64_t allocated = 0;
  int64_t reserved = 0;
  int64_t peak_allocated = 0;
  int64_t peak_reserved = 0;
  int64_t num_allocs = 0;         // allocate() calls
  int64_t num_cache_hits = 0;     // allocate() calls served from cached blocks
  int64_t num_device_allocs = 0;  // segments obtained from the device (cudaMalloc)
  int64_t num_device_frees = 0;   // segments returned to the device (cudaFree)
};

// A point in the work issued to a device stream (a CUDA event).
class DeviceEvent {
 public:
  virtual ~DeviceEvent() = default;
  virtual bool done() const = 0;         // everything before it has finished
  virtual void synchronize() const = 0;  // the host waits for it
};

// Host-to-device copies on a stream of their own, so that uploading the next batch overlaps the
// compute on the current one (data/detection/detection_loader.h). "Current stream" is the calling
// thread's current stream of the device, where its kernels run.
class UploadStream {
 public:
  virtual ~UploadStream() = default;
  virtual Device device() const = 0;
  // The work issued so far on the current stream.
  virtual std::unique_ptr<DeviceEvent> record_current() = 0;
  // The copies issued after this wait (on the device) for `event`.
  virtual void wait(const DeviceEvent& event) = 0;
  // Copies nbytes from host memory (pinned, for the copy to be asynchronous) to device memory on
  // the copy stream; the host memory must stay untouched until an event recorded after it is done.
  virtual void copy_to_device(void* dst, const void* src, size_t nbytes) = 0;
  // The copies issued so far.
  virtual std::unique_ptr<DeviceEvent> record() = 0;
  // The current stream waits (on the device) for `event`.
  virtual void wait_current(const DeviceEvent& event) = 0;
  virtual const void* native_handle() const = 0;  // the cudaStream_t (for tests)
  virtual size_t bytes_copied() const = 0;        // by copy_to_device, in total (for tests)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceType type() const = 0;
  // Number of usable devices of this type; 0 when none (for CUDA: no driver, no GPU).
  virtual int device_count() const = 0;
  // Memory for `nbytes` on `device`, aligned to at least 64 bytes. Never returns null for nbytes >
  // 0.
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, size_t nbytes, Device device) = 0;
  // Copies between this backend's devices and the host (or within). Asynchronous on the current
  // stream where the backend has streams; `synchronize` waits for it.
  virtual void copy(void* dst, Device dst_device, const void* src, Device src_device,
                    size_t nbytes) = 0;
  virtual void synchronize(Device device) = 0;
  // Caching backends report their accounting and can return cached memory; the defaults suit
  // backends without a cache.
  virtual MemoryStats memory_stats(Device) const { return {}; }
  virtual void reset_peak_stats(Device) {}
  virtual void empty_cache(Device) {}
  // Page-locks nbytes of host memory at ptr so that devices of this backend copy from it
  // asynchronously; false when the backend cannot (the memory stays ordinary). Unpin before
  // freeing it.
  virtual bool pin_host(void*, size_t) { return false; }
  virtual void unpin_host(void*) {}
  // A copy stream of `device`; nullptr for backends without streams.
  virtual std::unique_ptr<UploadStream> make_upload_stream(Device) { return nullptr; }
};

// Registered backends; CPU is always present. Throws a device error naming the build option when
// the type has no backend (e.g. cuda in a CPU-only build).
Backend& backend(DeviceType type);
bool has_backend(DeviceType type);
void register_backend(Backend* backend);  // called once by each backend at static-init time

// True when at least one CUDA device can run kernels here.
bool cuda_available();
int cuda_device_count();

}  // namespace osprey
