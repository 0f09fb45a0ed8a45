// Error checks for every CUDA runtime, cuBLAS and cuDNN call. A failed call throws osprey::Error of
// kind cuda whose message holds the call's text, the library's error name and description, and
// the file:line of the call — so a failure deep in a kernel launch reads like any other error.
//
//   OSPREY_CUDA_CHECK(cudaMemcpyAsync(...));
//   OSPREY_CUBLAS_CHECK(cublasSgemm(...));
//   OSPREY_CUDNN_CHECK(cudnnConvolutionForward(...));
//   OSPREY_CUDA_LAUNCH_CHECK();  // after <<<...>>>: launch errors, and with OSPREY_CUDA_SYNC=1 a
//                                // device synchronisation so faults point at their kernel
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "framework/core/error.h"

namespace osprey::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file,
                                    int line);

// True when OSPREY_CUDA_SYNC=1 (read once): every launch check then synchronises the device.
bool sync_after_launch();
void check_launch(const char* file, int line);

}  // namespace osprey::cuda

#define OSPREY_CUDA_CHECK(CALL)                                                    \
  do {                                                                             \
    cudaError_t osprey_status_ = (CALL);                                           \
    if (osprey_status_ != cudaSuccess) {                                           \
      ::osprey::cuda::throw_cuda_error(osprey_status_, #CALL, __FILE__, __LINE__); \
    }                                                                              \
  } while (0)

#define OSPREY_CUBLAS_CHECK(CALL)                                                    \
  do {                                                                               \
    cublasStatus_t osprey_status_ = (CALL);                                          \
    if (osprey_status_ != CUBLAS_STATUS_SUCCESS) {                                   \
      ::osprey::cuda::throw_cublas_error(osprey_status_, #CALL, __FILE__, __LINE__); \
    }                                                                                \
  } while (0)

#define OSPREY_CUDNN_CHECK(CALL)                                                    \
  do {                                                                              \
    cudnnStatus_t osprey_status_ = (CALL);                                          \
    if (osprey_status_ != CUDNN_STATUS_SUCCESS) {                                   \
      ::osprey::cuda::throw_cudnn_error(osprey_status_, #CALL, __FILE__, __LINE__); \
    }                                                                               \
  } while (0)

#define OSPREY_CUDA_LAUNCH_CHECK() ::osprey::cuda::check_launch(__FILE__, __LINE__)
