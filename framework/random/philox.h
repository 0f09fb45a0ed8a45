// Philox 4x32-10, the counter-based generator of Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3" (SC'11). A counter-based generator has no sequential state: the 128-bit output block
// for (key, counter) is a pure function, so every element of a random op can be computed
// independently by any thread on any device and the CPU and CUDA kernels produce the same stream.
//
// Osprey's convention (shared by every random kernel):
//   key     = the generator's 64-bit seed (low word, high word)
//   counter = (offset + i / 4) as a 64-bit number in words 0-1, words 2-3 zero
//   element i takes lane i % 4 of that block
// so an op drawing n values consumes ceil(n / 4) counters and the generator's offset advances by
// that much (see generator.h). Ops that need two numbers per element say how they pair lanes.
//
// Header-only and free of CUDA headers so host code and device code include the same arithmetic.
#pragma once

#include <cstdint>

#include "framework/core/macros.h"

namespace osprey::random {

struct PhiloxBlock {
  uint32_t v[4];
};

namespace detail {
inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
inline constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
inline constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1

OSPREY_INLINE void mulhilo32(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

OSPREY_INLINE PhiloxBlock philox_round(PhiloxBlock c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo32(kPhiloxM0, c.v[0], hi0, lo0);
  mulhilo32(kPhiloxM1, c.v[2], hi1, lo1);
  return PhiloxBlock{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
}
}  // namespace detail

// The raw generator: ten rounds, the key bumped by the Weyl constants between rounds.
OSPREY_INLINE PhiloxBlock philox4x32_10(PhiloxBlock counter, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += detail::kPhiloxW0;
      key1 += detail::kPhiloxW1;
    }
    counter = detail::philox_round(counter, key0, key1);
  }
  return counter;
}

// The block of Osprey's stream at `counter` for `seed` (the convention above).
OSPREY_INLINE PhiloxBlock philox_block(uint64_t seed, uint64_t counter) {
  PhiloxBlock c{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// The 32 random bits of element `i` of an op that starts at `offset`.
OSPREY_INLINE uint32_t philox_uint32(uint64_t seed, uint64_t offset, uint64_t i) {
  return philox_block(seed, offset + i / 4).v[i % 4];
}

// Bits to [0, 1). Floats use the top 24 bits so the result is exact and never rounds up to 1.
OSPREY_INLINE float uint32_to_unit_float(uint32_t x) {
  return static_cast<float>(x >> 8) * (1.0f / 16777216.0f);
}
OSPREY_INLINE double uint32_to_unit_double(uint32_t x) {
  return static_cast<double>(x) * (1.0 / 4294967296.0);
}

// [0, 1) in the precision of T (float or double); doubles carry 32 random bits.
template <typename T>
OSPREY_INLINE T uint32_to_unit(uint32_t x) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return uint32_to_unit_float(x);
  } else {
    return static_cast<T>(uint32_to_unit_double(x));
  }
}

// (0, 1]: the Box-Muller radius takes log(u), which must stay finite.
template <typename T>
OSPREY_INLINE T uint32_to_open_unit(uint32_t x) {
  return T(1) - uint32_to_unit<T>(x);
}

// Uniform in [low, high): a product that rounds up to `high` is folded back to `low`.
template <typename T>
OSPREY_INLINE T unit_to_range(T u, T low, T high) {
  T r = low + (high - low) * u;
  return r < high ? r : low;
}

}  // namespace osprey::random
