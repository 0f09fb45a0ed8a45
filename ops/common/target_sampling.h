// The random subsampling of the detection target ops (anchor_targets, proposal_targets), defined so
// that the CPU and CUDA kernels pick the same subset for the same (seed, offset).
//
// Candidate i of image b owns Philox element b * stride + i of the call's stream (philox.h; the op
// reserves N * stride values), and its sort key is
//     key(b, i) = (philox_uint32(seed, offset, b * stride + i) << 32) | i.
// The low word makes keys unique, so "keep the k candidates with the smallest keys" names one
// subset: a uniformly random k-subset, a pure function of (seed, offset, b, i) that needs no
// sequential shuffle. The CPU finds it with nth_element; the CUDA kernels find the same threshold
// with a bitwise search over the key (target_sampling.cuh).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "framework/core/macros.h"
#include "framework/random/philox.h"

namespace osprey::ops::sampling {

OSPREY_INLINE uint64_t sample_key(uint64_t seed, uint64_t offset, uint64_t element, uint32_t i) {
  return (static_cast<uint64_t>(random::philox_uint32(seed, offset, element)) << 32) | i;
}

// Host side: the key below which a candidate is kept so that exactly min(k, keys.size()) of
// `keys` (unique) survive. Keep candidate i iff key_i < threshold.
inline uint64_t keep_threshold(std::vector<uint64_t> keys, int64_t k) {
  if (k <= 0) return 0;
  if (static_cast<size_t>(k) >= keys.size()) return ~uint64_t{0};
  std::nth_element(keys.begin(), keys.begin() + k, keys.end());
  return keys[static_cast<size_t>(k)];
}

}  // namespace osprey::ops::sampling
