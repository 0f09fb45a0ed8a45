// The random numbers of one Fashion-scenes image: Philox 4×32-10 keyed by the dataset seed, counter
// (image index low, high, block, stream), drawn in order. The stream id keeps these numbers apart
// from the data pipeline's (data/sample_random.h) for the same seed.
#pragma once

#include <cmath>
#include <cstdint>

#include "framework/random/philox.h"

namespace osprey::data::fashion_scenes {

class SceneRandom {
 public:
  SceneRandom(uint64_t seed, int64_t index) : seed_(seed), index_(static_cast<uint64_t>(index)) {}

  uint32_t bits() {
    if (lane_ == 4) {
      random::PhiloxBlock counter{
          {static_cast<uint32_t>(index_), static_cast<uint32_t>(index_ >> 32), block_++, kStream}};
      block_values_ = random::philox4x32_10(counter, static_cast<uint32_t>(seed_),
                                            static_cast<uint32_t>(seed_ >> 32));
      lane_ = 0;
    }
    return block_values_.v[lane_++];
  }
  double uniform() { return random::uint32_to_unit_double(bits()); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double log_uniform(double lo, double hi) { return std::exp(uniform(std::log(lo), std::log(hi))); }
  int64_t below(int64_t n) {  // [0, n)
    return static_cast<int64_t>((static_cast<uint64_t>(bits()) * static_cast<uint64_t>(n)) >> 32);
  }
  int integer(int lo, int hi) {
    return lo + static_cast<int>(below(int64_t(hi) - lo + 1));
  }  // [lo, hi]

 private:
  static constexpr uint32_t kStream = 0xFA5C;
  uint64_t seed_;
  uint64_t index_;
  uint32_t block_ = 0;
  int lane_ = 4;
  random::PhiloxBlock block_values_{};
};

}  // namespace osprey::data::fashion_scenes
