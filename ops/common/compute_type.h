// The type element-wise arithmetic on a stored dtype T runs in, shared by CPU and CUDA kernels so
// both round the same way: f16/bf16 widen to float (they have no arithmetic of their own), every
// other type computes in itself.
#pragma once

#include <type_traits>

#include "framework/core/dtype.h"

namespace osprey::ops {

template <typename T>
using compute_t =
    std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;

}  // namespace osprey::ops
