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

// The frame of a pooling-style kernel with one output: body(out, stream) fills `out` (given itself
// when contiguous, else a contiguous scratch copied in afterwards) on the current stream of
// `device`; it is not called for an empty output. zero_first: out is zeroed first (scatters).
template <typename Body>
void with_pool_output(const Tensor& given, Device device, bool zero_first, Body body) {
  Tensor out = pool_scratch_for(given);
  if (out.numel() > 0) {
    cuda::DeviceGuard guard(device.index);
    cudaStream_t stream = cuda::current_stream();
    if (zero_first) OSPREY_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes(), stream));
    body(out, stream);
  }
  store_pool_output(given, out);
}

}  // namespace osprey::ops
