// Helpers shared by the CUDA pooling kernels: 4-d strides passed by value to a kernel, and the
// output handling every pooling kernel does the same way (results are written contiguous NCHW,
// as by the CPU kernels; a caller's out= tensor in another layout gets a copy).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "framework/core/tensor.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"

namespace osprey::ops {

// Strides of a 4-d tensor, for reading it in any layout on the device.
struct Strides4 {
  int64_t s[4];
  explicit Strides4(const Tensor& t) {
    for (int d = 0; d < 4; ++d) s[d] = t.stride(d);
  }
  __device__ int64_t at(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return n * s[0] + c * s[1] + h * s[2] + w * s[3];
  }
};

// The contiguous tensor a kernel writes for `given`; copy back with store_pool_output.
inline Tensor pool_scratch_for(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

inline void store_pool_output(const Tensor& given, const Tensor& result) {
  if (!result.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {result});
}

}  // namespace osprey::ops
