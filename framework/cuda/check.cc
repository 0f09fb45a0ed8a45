#include "framework/cuda/check.h"

#include <cstdlib>
#include <cstring>

namespace osprey::cuda {

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  cudaGetLastError();  // clears a non-sticky error so the next call does not report it again
  throw Error(
      ErrorKind::cuda,
      fmt::format("{} failed: {} ({})", call, cudaGetErrorName(status), cudaGetErrorString(status)),
      file, line);
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(ErrorKind::cuda,
              fmt::format("{} failed: {} ({})", call, cublasGetStatusName(status),
                          cublasGetStatusString(status)),
              file, line);
}

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof(detail));
  throw Error(ErrorKind::cuda,
              fmt::format("{} failed: {}{}{}", call, cudnnGetErrorString(status),
                          detail[0] ? ": " : "", detail),
              file, line);
}

bool sync_after_launch() {
  static const bool enabled = [] {
    const char* value = std::getenv("OSPREY_CUDA_SYNC");
    return value && std::strcmp(value, "0") != 0 && value[0] != '\0';
  }();
  return enabled;
}

void check_launch(const char* file, int line) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) throw_cuda_error(status, "kernel launch", file, line);
  if (sync_after_launch()) {
    status = cudaDeviceSynchronize();
    if (status != cudaSuccess) {
      throw_cuda_error(status, "kernel execution (OSPREY_CUDA_SYNC=1)", file, line);
    }
  }
}

}  // namespace osprey::cuda
