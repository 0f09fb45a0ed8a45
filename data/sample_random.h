// The random numbers of the data pipeline. Every random choice (the shuffled order of an epoch, the
// crop and flip of one sample) is a pure function of (seed, epoch, index) computed with the
// framework's Philox generator (framework/random/philox.h), never drawn from a sequential stream,
// so results do not depend on the number of loader threads, the order in which they run, or where a
// resumed run starts.
//
// Layout: key = the 64-bit seed; counter = (index low word, index high word, epoch, stream), where
// `stream` keeps the sampler's numbers apart from the transforms'. The framework's random ops use
// counters with words 2-3 zero; stream ids start at 1, so the data pipeline never reuses them.
#pragma once

#include <cstdint>

#include "framework/random/philox.h"

namespace osprey::data {

// The detection transforms need more than one block of four words per sample: one stream each.
enum class RandomStream : uint32_t {
  sampler = 1,
  transform = 2,
  detection_crop = 3,
  detection_geometry = 4,
  detection_photometric = 5,
};

inline random::PhiloxBlock sample_random_block(uint64_t seed, RandomStream stream, int64_t epoch,
                                               int64_t index) {
  auto i = static_cast<uint64_t>(index);
  random::PhiloxBlock counter{{static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32),
                               static_cast<uint32_t>(epoch), static_cast<uint32_t>(stream)}};
  return random::philox4x32_10(counter, static_cast<uint32_t>(seed),
                               static_cast<uint32_t>(seed >> 32));
}

// An integer in [0, n) from 32 random bits (multiply-shift; the bias, below n / 2^32, is negligible
// for the sizes of datasets and images).
inline uint64_t uniform_below(uint32_t bits, uint64_t n) {
  return (static_cast<uint64_t>(bits) * n) >> 32;
}

}  // namespace osprey::data
