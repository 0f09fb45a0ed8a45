// Device side of target_sampling.h: one thread block finds the threshold that keeps the `quota`
// candidates with the smallest keys. The threshold is built bit by bit from the top: a bit is set
// when at most `quota` candidates have keys below the trial value, so the result P is the largest
// value with count(key < P) <= quota; keys are unique, hence count(key < P) = min(quota, total),
// the same subset as the host's nth_element. 64 passes of a block-wide count; every thread of the
// block must call it.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace osprey::ops::sampling {

// is_candidate(i) and key(i) for i in [0, n); returns ~0 (keep all) when total <= quota and 0 (keep
// none) when quota <= 0.
template <typename Candidate, typename Key>
__device__ uint64_t block_keep_threshold(int64_t n, int64_t quota, Candidate is_candidate,
                                         Key key) {
  auto count_below = [&](uint64_t limit) {
    int64_t total = 0;
    for (int64_t start = 0; start < n; start += blockDim.x) {
      const int64_t i = start + threadIdx.x;
      const bool below = i < n && is_candidate(i) && key(i) < limit;
      total += __syncthreads_count(below);
    }
    return total;
  };
  const uint64_t all = ~uint64_t{0};
  if (quota <= 0) return 0;
  if (count_below(all) <= quota) return all;
  uint64_t prefix = 0;
  for (int bit = 63; bit >= 0; --bit) {
    const uint64_t trial = prefix | (uint64_t{1} << bit);
    if (count_below(trial) <= quota) prefix = trial;
  }
  return prefix;
}

}  // namespace osprey::ops::sampling
