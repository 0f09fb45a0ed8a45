// Helpers shared by the CUDA pooling kernels: the 4-d index helpers of ops/common/cuda_nchw.cuh,
// and the output handling every pooling kernel does the same way (results are written contiguous
// NCHW, as by the CPU kernels; a caller's out= tensor in another layout gets a copy).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "framework/core/tensor.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cuda_loops.cuh"
#include "ops/common/cuda_nchw.cuh"

namespace osprey::ops {

// The contiguous tensor a kernel writes for `given`; copy back with store_pool_output.
inline Tensor pool_scratch_for(const Tensor& given) {
  return given.is_contiguous() ? given
                               : Tensor::empty(given.shape(), given.dtype(), given.device());
}

inline void store_pool_output(const Tensor& given, const Tensor& result) {
  if (!result.is_same(given) && given.numel() > 0) dispatch::call_out("copy", given, {result});
}

}  // namespace osprey::ops
