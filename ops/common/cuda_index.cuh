// Device helpers for the CUDA kernels of indexing ops (gather, scatter_add, index_select,
// index_scatter_grad):
//   cuda_atomic_add(p, v)     *p += v atomically for every numeric dtype: the hardware atomics for
//                             f32/f64/i32/i64 and (sm_70+/sm_80+) f16/bf16; u8 through a
//                             compare-and-swap loop on the aligned 32-bit word holding the byte
//                             (allocations are rounded to at least 4 bytes, so the word lies
//                             inside the block). Float sums thus add in arrival order: results
//                             may differ from the CPU's sequential order in the last bits.
//   cuda_check_index(op, argument, v, size)  an index outside [0, size) stops the kernel with a
//                             device-side trap after printing the op, the argument and the value.
//                             Checking on the device keeps the launch asynchronous (no copy of
//                             the indices back to the host); the price, as with PyTorch's device
//                             asserts, is that the error surfaces at the next synchronising call
//                             as a CUDA error and leaves the CUDA context unusable. Run with
//                             OSPREY_CUDA_SYNC=1 to have it reported at the launch.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>

#include "framework/core/dtype.h"

namespace osprey::ops {

template <typename T>
__device__ inline void cuda_atomic_add(T* p, T v) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> ||
                std::is_same_v<T, int32_t>) {
    atomicAdd(p, v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    // Two's-complement addition is the same bit operation for signed and unsigned words.
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else if constexpr (std::is_same_v<T, Half>) {
    atomicAdd(reinterpret_cast<__half*>(p), __float2half(static_cast<float>(v)));
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    atomicAdd(reinterpret_cast<__nv_bfloat16*>(p), __float2bfloat16(static_cast<float>(v)));
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    auto address = reinterpret_cast<uintptr_t>(p);
    auto* word = reinterpret_cast<unsigned int*>(address & ~uintptr_t{3});
    const unsigned shift = static_cast<unsigned>(address & 3) * 8;
    unsigned old = *word, assumed;
    do {
      assumed = old;
      unsigned byte = ((assumed >> shift) + v) & 0xffu;
      old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | (byte << shift));
    } while (assumed != old);
  } else {
    static_assert(sizeof(T) == 0, "cuda_atomic_add: unsupported type");
  }
}

__device__ inline void cuda_check_index(const char* op, const char* argument, int64_t v,
                                        int64_t size) {
  if (v < 0 || v >= size) {
    printf("osprey: %s: value %lld of '%s' is out of range [0, %lld) of the indexed dim\n", op,
           static_cast<long long>(v), argument, static_cast<long long>(size));
    __trap();
  }
}

}  // namespace osprey::ops
