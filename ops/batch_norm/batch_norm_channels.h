// Per-channel access shared by the batch_norm CPU kernels (batch_norm_cpu.cc and
// batch_norm_fast_cpu.cc): reading an optional per-channel tensor, writing one, and the update of
// the running statistics (formulas in batch_norm.h). Per-channel tensors are 1-d, any stride.
#pragma once

#include <cstdint>

#include "framework/core/tensor.h"

namespace osprey::ops {

// Element c of an optional per-channel tensor, or `absent`.
template <typename T>
double channel_value(const Tensor& t, int64_t c, double absent) {
  return t.defined() ? static_cast<double>(t.data<T>()[c * t.stride(0)]) : absent;
}

template <typename T>
void set_channel(const Tensor& t, int64_t c, double v) {
  t.data<T>()[c * t.stride(0)] = static_cast<T>(v);
}

// running = (1 - momentum) * running + momentum * batch statistic, for channel c (the variance
// statistic unbiased: sum of squared deviations / (m - 1)).
template <typename T>
void update_running_stats(const Tensor& running_mean, const Tensor& running_var, int64_t c,
                          double momentum, double mean, double unbiased_var) {
  set_channel<T>(running_mean, c,
                 (1 - momentum) * channel_value<T>(running_mean, c, 0) + momentum * mean);
  set_channel<T>(running_var, c,
                 (1 - momentum) * channel_value<T>(running_var, c, 0) + momentum * unbiased_var);
}

}  // namespace osprey::ops
