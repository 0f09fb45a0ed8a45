// Portability macros shared by host code and CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define OSPREY_HOST_DEVICE __host__ __device__
#define OSPREY_INLINE __host__ __device__ __forceinline__
#else
#define OSPREY_HOST_DEVICE
#define OSPREY_INLINE inline
#endif
