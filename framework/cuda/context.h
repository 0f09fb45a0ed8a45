// Per-device CUDA state, kept per host thread where CUDA's own rules require it:
//   - the current device (DeviceGuard switches it for a scope),
//   - the current stream of each device (default: the legacy default stream, which orders work
//     with every other blocking stream; StreamGuard switches it for a scope),
//   - cuBLAS and cuDNN handles, created on first use, one per thread and device (the libraries do
//     not allow one handle to be used from two threads at once), bound to the current stream each
//     time they are fetched,
//   - events for ordering work between streams and for timing.
// Kernels run on the current stream of their tensors' device; the allocator hands out memory per
// stream, so a tensor used on another stream must be ordered with an Event by the caller.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "framework/cuda/check.h"

namespace osprey::cuda {

// Number of CUDA devices; 0 when there is no driver, no device or any other error.
int device_count();
int current_device();
void set_device(int device);
const cudaDeviceProp& device_properties(int device);
int sm_count(int device);

// Sets the current device for its lifetime and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// The stream work for `device` (-1: the current device) is issued on, on this thread.
cudaStream_t current_stream(int device = -1);
void set_current_stream(cudaStream_t stream, int device = -1);

// An owned non-blocking stream on a device.
class Stream {
 public:
  explicit Stream(int device = -1, int priority = 0);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  int device() const { return device_; }
  void synchronize() const;
  bool query() const;  // true when all work issued so far has finished

 private:
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
};

// Makes `stream` the current stream of `device` for its lifetime.
class StreamGuard {
 public:
  StreamGuard(cudaStream_t stream, int device = -1);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int device_;
  cudaStream_t previous_;
};

// An owned event: record on one stream, make another stream (or the host) wait for it.
class Event {
 public:
  explicit Event(bool timing = false);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream);
  void record() { record(current_stream()); }
  void wait(cudaStream_t stream) const;  // stream waits (on the device) for the recorded work
  void synchronize() const;              // the host waits
  bool query() const;
  float elapsed_ms(const Event& end) const;  // both created with timing = true

 private:
  cudaEvent_t event_ = nullptr;
};

// TF32 tensor-core math for f32 matrix products (cuBLAS) and convolutions (cuDNN). Off by
// default: TF32 keeps 10 mantissa bits, which changes results at the 1e-3 level.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Handles for the current device and thread, bound to the current stream; cuBLAS's math mode
// follows allow_tf32().
cublasHandle_t cublas_handle();
cudnnHandle_t cudnn_handle();

}  // namespace osprey::cuda
