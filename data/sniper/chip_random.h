// The random choices of SNIPER's chip pipeline as pure functions of (seed, epoch, what, where),
// from the data pipeline's Philox layout (data/sample_random.h, stream `sniper`): the chips of an
// image in an epoch do not depend on the order in which images are processed or on thread counts,
// and any epoch can be recomputed directly (a resumed run sees the chips it would have seen).
//
// Counter words: (major, purpose << 24 | scale << 20 | minor / 4, epoch, kSniperStream); lane
// minor % 4. The stream id sits far above RandomStream's (data/sample_random.h), so the chips
// never reuse the sampler's or the transforms' numbers.
// `major` is the image index (or, for epoch-level draws, element / 4), so images are limited to
// 2^32 and one image's draws per (purpose, scale) to 2^22 — far above any chip grid.
#pragma once

#include <cstdint>
#include <vector>

#include "data/sample_random.h"

namespace osprey::data::sniper {

inline constexpr uint32_t kSniperStream = 0x5317;

enum class ChipPurpose : uint32_t {
  stride = 0,         // the epoch's chip stride
  positive_shuffle,   // order of the candidate chips when covering ground-truth boxes
  negative_shuffle,   // ... when covering the boxes left uncovered (negative chips)
  negative_sample,    // which negative chips of an image an epoch uses
  chip_order,         // the order in which an image's chips are drawn in an epoch
  epoch_permutation,  // order of the epoch's image-draw list
};

inline uint32_t chip_random_bits(uint64_t seed, int64_t epoch, ChipPurpose purpose, int scale,
                                 uint64_t major, uint64_t minor) {
  random::PhiloxBlock counter{{static_cast<uint32_t>(major),
                               (static_cast<uint32_t>(purpose) << 24) |
                                   (static_cast<uint32_t>(scale & 0xF) << 20) |
                                   static_cast<uint32_t>((minor >> 2) & 0xFFFFF),
                               static_cast<uint32_t>(epoch), kSniperStream}};
  return random::philox4x32_10(counter, static_cast<uint32_t>(seed),
                               static_cast<uint32_t>(seed >> 32))
      .v[minor & 3];
}

// Fisher–Yates shuffle of `items` with draws (seed, epoch, purpose, scale, major, i).
template <typename T>
void chip_shuffle(std::vector<T>& items, uint64_t seed, int64_t epoch, ChipPurpose purpose,
                  int scale, uint64_t major) {
  for (size_t i = items.size(); i > 1; --i) {
    const uint64_t j =
        uniform_below(chip_random_bits(seed, epoch, purpose, scale, major, i - 1), i);
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace osprey::data::sniper
