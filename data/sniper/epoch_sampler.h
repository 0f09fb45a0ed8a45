// One SNIPER epoch: the chip stride of the epoch, every image's chips (regenerated each epoch, as
// MNIteratorE2E.reset does), and the list of chips to train on, built as the code builds it: every
// image contributes its positive chips and up to neg_chips_per_image randomly sampled negative
// chips; a list with one entry (the image) per chip is padded with its own first entries to a
// multiple of the batch and permuted; each time an image comes up it gives the next chip of a
// random per-image chip order (cyclically, so padding repeats an image's first chips in that
// order). All of it is a pure function of (config, seed, epoch): the same on every machine and at
// every thread count, and any epoch can be recomputed directly.
#pragma once

#include <cstdint>
#include <vector>

#include "data/sniper/image_chips.h"

namespace osprey::data::sniper {

struct ChipRef {
  int64_t image = 0;
  int chip = 0;  // index into ImageChips::positive or ::negative
  bool negative = false;
  bool operator==(const ChipRef&) const = default;
};

class ChipSampler {
 public:
  ChipSampler(SniperConfig config, uint64_t seed);

  const SniperConfig& config() const { return config_; }
  // Uniform in [stride_min, stride_max], drawn once per epoch.
  int stride(int64_t epoch) const;
  ImageChips image_chips(const SniperImage& image, int64_t image_index, int64_t epoch) const;
  // Every image's chips (OpenMP over images; the result does not depend on the thread count).
  std::vector<ImageChips> epoch_chips(const std::vector<SniperImage>& images, int64_t epoch) const;
  // The epoch's chip list (size a multiple of batch_size; empty when there are no chips).
  std::vector<ChipRef> epoch_list(const std::vector<ImageChips>& chips, int64_t epoch) const;

 private:
  SniperConfig config_;
  uint64_t seed_;
};

}  // namespace osprey::data::sniper
