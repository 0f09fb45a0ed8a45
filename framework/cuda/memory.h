// Device memory and host<->device copies for the CUDA backend.
//
// Copies with the host go through pinned staging buffers (from a small pool, in chunks of at most
// 16 MiB) so that they are asynchronous on the stream and the caller's pageable buffer is free to
// change once the call returns:
//   host -> device: the host data is copied into a staging buffer, then cudaMemcpyAsync'd;
//   device -> host: cudaMemcpyAsync into a staging buffer, then a host callback on the stream
//                   copies it to the destination — the destination is written only when the
//                   stream reaches that point, so the caller synchronises the stream before
//                   reading it (Backend::synchronize).
// A staging buffer returns to the pool when the stream has passed its copy.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "framework/cuda/caching_allocator.h"

namespace osprey::cuda {

// The caching allocator of `device` (made on first use and kept for the life of the process, since
// tensors in static storage may release memory during exit).
CachingAllocator& device_allocator(int device);

void copy_host_to_device(void* dst, const void* src, size_t nbytes, cudaStream_t stream);
void copy_device_to_host(void* dst, const void* src, size_t nbytes, cudaStream_t stream);

// Bytes of pinned host memory held by the staging pool (for tests).
size_t staging_bytes();

}  // namespace osprey::cuda
