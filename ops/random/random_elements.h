// The per-element arithmetic of the random ops, shared verbatim by the CPU and CUDA kernels so both
// produce the same stream for the same (seed, offset). Each function fills the (up to) four
// elements that one Philox block serves: elements 4*b .. 4*b+3 come from block offset + b.
// `T` is the compute type (float or double). Also the host-side pieces both devices' kernels use:
// where a call starts in the Philox sequence and randperm's shuffle.
#pragma once

#include <math.h>

#include <cstdint>

#include "framework/core/macros.h"
#include "framework/dispatch/kernel.h"
#include "framework/random/philox.h"

namespace osprey::ops::random_detail {

using osprey::random::PhiloxBlock;

template <typename T>
OSPREY_INLINE T log_of(T x) {
  if constexpr (sizeof(T) == sizeof(float))
    return logf(x);
  else
    return log(x);
}
template <typename T>
OSPREY_INLINE T sqrt_of(T x) {
  if constexpr (sizeof(T) == sizeof(float))
    return sqrtf(x);
  else
    return sqrt(x);
}
template <typename T>
OSPREY_INLINE T cos_of(T x) {
  if constexpr (sizeof(T) == sizeof(float))
    return cosf(x);
  else
    return cos(x);
}
template <typename T>
OSPREY_INLINE T sin_of(T x) {
  if constexpr (sizeof(T) == sizeof(float))
    return sinf(x);
  else
    return sin(x);
}

// Uniform in [low, high): lane k of the block gives element 4*b + k.
template <typename T>
OSPREY_INLINE void uniform_block(const PhiloxBlock& r, T low, T high, T out[4]) {
  for (int k = 0; k < 4; ++k) {
    out[k] = osprey::random::unit_to_range(osprey::random::uint32_to_unit<T>(r.v[k]), low, high);
  }
}

// Box-Muller: lanes (0, 1) and (2, 3) are pairs (u1 in (0, 1], u2 in [0, 1)); with radius
// rho = sqrt(-2 log u1) and angle theta = 2 pi u2, the even element of a pair is rho cos theta
// and the odd one rho sin theta. Two independent standard normals per pair.
template <typename T>
OSPREY_INLINE void normal_block(const PhiloxBlock& r, T mean, T std, T out[4]) {
  const T two_pi = T(6.283185307179586476925286766559);
  for (int pair = 0; pair < 2; ++pair) {
    T u1 = osprey::random::uint32_to_open_unit<T>(r.v[2 * pair]);
    T u2 = osprey::random::uint32_to_unit<T>(r.v[2 * pair + 1]);
    T rho = sqrt_of(T(-2) * log_of(u1));
    T theta = two_pi * u2;
    out[2 * pair] = mean + std * rho * cos_of(theta);
    out[2 * pair + 1] = mean + std * rho * sin_of(theta);
  }
}

// 1 where u < p with u uniform in [0, 1): probability p for p in [0, 1]; p <= 0 (or NaN) gives
// 0 and p >= 1 gives 1.
template <typename T>
OSPREY_INLINE T bernoulli_element(uint32_t bits, T p) {
  return osprey::random::uint32_to_unit<T>(bits) < p ? T(1) : T(0);
}

// Where a call starts in the Philox sequence: its `seed` and `offset` attrs.
struct PhiloxPosition {
  uint64_t seed;
  uint64_t offset;
};
PhiloxPosition philox_position(const dispatch::KernelContext& ctx);

// randperm's permutation of 0 .. n-1 into perm (see random.h): for k = 0 .. n-2, position
// j = n-1-k swaps with r_k mod (j+1), r_k from lanes 2(k%2) (low word) and 2(k%2)+1 (high word) of
// block offset + k/2. Sequential on the host; the CUDA kernel copies its result over.
void philox_shuffle(int64_t* perm, int64_t n, PhiloxPosition position);

}  // namespace osprey::ops::random_detail
