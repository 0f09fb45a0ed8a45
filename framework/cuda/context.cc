#include "framework/cuda/context.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace osprey::cuda {
namespace {

std::atomic<bool> tf32_allowed{false};

void check_device_index(int device) {
  int count = device_count();
  OSPREY_CHECK_KIND(device, device >= 0 && device < count,
                    "CUDA device {} does not exist ({} device(s) present)", device, count);
}

int resolve(int device) {
  return device < 0 ? current_device() : device;
}

// This thread's current stream per device (nullptr: the legacy default stream).
std::vector<cudaStream_t>& thread_streams() {
  thread_local std::vector<cudaStream_t> streams;
  int count = device_count();
  if (static_cast<int>(streams.size()) < count) streams.resize(count, nullptr);
  return streams;
}

// Handles of this thread, per device. Destroyed when the thread ends; errors are ignored because
// the CUDA runtime may already be unloading at process exit.
struct ThreadHandles {
  struct Binding {
    cudaStream_t stream = nullptr;
    int tf32 = -1;  // -1: not bound yet
  };
  std::vector<cublasHandle_t> cublas;
  std::vector<Binding> cublas_bound;
  std::vector<cudnnHandle_t> cudnn;
  ~ThreadHandles() {
    for (auto h : cublas) {
      if (h) cublasDestroy(h);
    }
    for (auto h : cudnn) {
      if (h) cudnnDestroy(h);
    }
  }
};

ThreadHandles& thread_handles() {
  thread_local ThreadHandles handles;
  size_t count = static_cast<size_t>(device_count());
  if (handles.cublas.size() < count) handles.cublas.resize(count, nullptr);
  if (handles.cublas_bound.size() < count) handles.cublas_bound.resize(count);
  if (handles.cudnn.size() < count) handles.cudnn.resize(count, nullptr);
  return handles;
}

}  // namespace

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

int current_device() {
  int device = 0;
  OSPREY_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

void set_device(int device) {
  check_device_index(device);
  OSPREY_CUDA_CHECK(cudaSetDevice(device));
}

const cudaDeviceProp& device_properties(int device) {
  static std::once_flag once;
  static std::vector<cudaDeviceProp> props;
  std::call_once(once, [] {
    props.resize(device_count());
    for (int d = 0; d < device_count(); ++d) {
      OSPREY_CUDA_CHECK(cudaGetDeviceProperties(&props[d], d));
    }
  });
  device = resolve(device);
  check_device_index(device);
  return props[device];
}

int sm_count(int device) {
  return device_properties(device).multiProcessorCount;
}

DeviceGuard::DeviceGuard(int device) {
  previous_ = current_device();
  if (device != previous_) set_device(device);
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
}

cudaStream_t current_stream(int device) {
  device = resolve(device);
  check_device_index(device);
  return thread_streams()[device];
}

void set_current_stream(cudaStream_t stream, int device) {
  device = resolve(device);
  check_device_index(device);
  thread_streams()[device] = stream;
}

Stream::Stream(int device, int priority) : device_(resolve(device)) {
  DeviceGuard guard(device_);
  OSPREY_CUDA_CHECK(cudaStreamCreateWithPriority(&stream_, cudaStreamNonBlocking, priority));
}

Stream::~Stream() {
  if (stream_) cudaStreamDestroy(stream_);
}

void Stream::synchronize() const {
  OSPREY_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

bool Stream::query() const {
  cudaError_t status = cudaStreamQuery(stream_);
  if (status == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  OSPREY_CUDA_CHECK(status);
  return true;
}

StreamGuard::StreamGuard(cudaStream_t stream, int device)
    : device_(resolve(device)), previous_(current_stream(device_)) {
  set_current_stream(stream, device_);
}

StreamGuard::~StreamGuard() {
  thread_streams()[device_] = previous_;
}

Event::Event(bool timing) {
  OSPREY_CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? 0 : cudaEventDisableTiming));
}

Event::~Event() {
  if (event_) cudaEventDestroy(event_);
}

void Event::record(cudaStream_t stream) {
  OSPREY_CUDA_CHECK(cudaEventRecord(event_, stream));
}

void Event::wait(cudaStream_t stream) const {
  OSPREY_CUDA_CHECK(cudaStreamWaitEvent(stream, event_, 0));
}

void Event::synchronize() const {
  OSPREY_CUDA_CHECK(cudaEventSynchronize(event_));
}

bool Event::query() const {
  cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  OSPREY_CUDA_CHECK(status);
  return true;
}

float Event::elapsed_ms(const Event& end) const {
  float ms = 0.0f;
  OSPREY_CUDA_CHECK(cudaEventElapsedTime(&ms, event_, end.event_));
  return ms;
}

void set_allow_tf32(bool allow) {
  tf32_allowed.store(allow);
}
bool allow_tf32() {
  return tf32_allowed.load();
}

cublasHandle_t cublas_handle() {
  int device = current_device();
  ThreadHandles& handles = thread_handles();
  auto& handle = handles.cublas.at(device);
  auto& bound = handles.cublas_bound.at(device);
  cudaStream_t stream = current_stream(device);
  int tf32 = allow_tf32() ? 1 : 0;
  if (!handle) OSPREY_CUBLAS_CHECK(cublasCreate(&handle));
  // Rebinding resets cuBLAS's workspace, so it is done only when something changed.
  if (bound.tf32 < 0 || bound.stream != stream) {
    OSPREY_CUBLAS_CHECK(cublasSetStream(handle, stream));
    bound.stream = stream;
  }
  if (bound.tf32 != tf32) {
    OSPREY_CUBLAS_CHECK(
        cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    bound.tf32 = tf32;
  }
  return handle;
}

cudnnHandle_t cudnn_handle() {
  int device = current_device();
  auto& handle = thread_handles().cudnn.at(device);
  if (!handle) OSPREY_CUDNN_CHECK(cudnnCreate(&handle));
  OSPREY_CUDNN_CHECK(cudnnSetStream(handle, current_stream(device)));
  return handle;
}

}  // namespace osprey::cuda
