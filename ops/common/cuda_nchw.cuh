// Index helpers for CUDA kernels over 4-d (N, C, H, W) tensors (the pools, interpolate): the
// (n, c, h, w) of a flat index into a contiguous NCHW range and strides passed by value for reading
// any layout. Such kernels loop and launch with cuda_launch.cuh.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "framework/core/tensor.h"
#include "ops/common/cuda_launch.cuh"

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

struct Index4 {
  int64_t n, c, h, w;
};

// Element `flat` of a contiguous (N, channels, height, width) range.
__device__ inline Index4 nchw_index(int64_t flat, int64_t channels, int64_t height, int64_t width) {
  return {flat / (width * height * channels), (flat / (width * height)) % channels,
          (flat / width) % height, flat % width};
}

}  // namespace osprey::ops
