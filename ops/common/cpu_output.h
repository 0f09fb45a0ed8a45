// The frame of a CPU kernel that writes one float output in contiguous order (the pooling and
// interpolate kernels): the loops fill a contiguous buffer (the output itself when contiguous,
// else a scratch that is then stored through the output's strides).
#pragma once

#include "framework/core/dtype.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {

// Calls fill(dst) with dst the contiguous T buffer for `out`, T the f32/f64 type of `dtype` (other
// dtypes are an error naming `op`), then stores the buffer into out.
template <typename Fill>
void with_cpu_output(const Tensor& out, DType dtype, const char* op, Fill fill) {
  OSPREY_DISPATCH_FLOAT(dtype, op, [&]<typename T>() {
    Tensor result = cpu_scratch_for(out);
    fill(result.data<T>());
    cpu_store<T>(out, result);
  });
}

}  // namespace osprey::ops
