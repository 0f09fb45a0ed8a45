#include "data/sniper/epoch_sampler.h"

#include <exception>
#include <numeric>

#include "data/sniper/chip_random.h"

namespace osprey::data::sniper {

ChipSampler::ChipSampler(SniperConfig config, uint64_t seed)
    : config_(std::move(config)), seed_(seed) {
  validate(config_);
}

int ChipSampler::stride(int64_t epoch) const {
  const uint64_t span = uint64_t(config_.stride_max - config_.stride_min) + 1;
  const uint32_t bits = chip_random_bits(seed_, epoch, ChipPurpose::stride, 0, 0, 0);
  return config_.stride_min + static_cast<int>(uniform_below(bits, span));
}

ImageChips ChipSampler::image_chips(const SniperImage& image, int64_t image_index,
                                    int64_t epoch) const {
  return sniper::image_chips(image, config_, stride(epoch), seed_, image_index, epoch);
}

std::vector<ImageChips> ChipSampler::epoch_chips(const std::vector<SniperImage>& images,
                                                 int64_t epoch) const {
  std::vector<ImageChips> out(images.size());
  const int s = stride(epoch);
  const auto n = static_cast<int64_t>(images.size());
  // Exceptions may not leave an OpenMP region: the first one is kept and rethrown.
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) {
    try {
      out[i] = sniper::image_chips(images[i], config_, s, seed_, i, epoch);
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

std::vector<ChipRef> ChipSampler::epoch_list(const std::vector<ImageChips>& chips,
                                             int64_t epoch) const {
  std::vector<ChipRef> list;
  for (size_t i = 0; i < chips.size(); ++i) {
    const auto image = static_cast<int64_t>(i);
    for (size_t k = 0; k < chips[i].positive.size(); ++k) list.push_back({image, int(k), false});
    // A partial Fisher–Yates draws neg_chips_per_image distinct negatives.
    std::vector<int> neg(chips[i].negative.size());
    std::iota(neg.begin(), neg.end(), 0);
    const size_t take = std::min(neg.size(), size_t(config_.neg_chips_per_image));
    for (size_t k = 0; k < take; ++k) {
      const uint32_t bits =
          chip_random_bits(seed_, epoch, ChipPurpose::negative_sample, 0, uint64_t(i), k);
      std::swap(neg[k], neg[k + uniform_below(bits, neg.size() - k)]);
      list.push_back({image, neg[k], true});
    }
  }
  if (list.empty()) return list;
  const size_t n = list.size();
  const size_t pad = (config_.batch_size - n % config_.batch_size) % config_.batch_size;
  for (size_t k = 0; k < pad; ++k) {
    const uint32_t bits = chip_random_bits(seed_, epoch, ChipPurpose::epoch_pad, 0, k >> 2, k);
    list.push_back(list[uniform_below(bits, n)]);
  }
  for (size_t i = list.size(); i > 1; --i) {
    const uint32_t bits =
        chip_random_bits(seed_, epoch, ChipPurpose::epoch_permutation, 0, (i - 1) >> 2, i - 1);
    std::swap(list[i - 1], list[uniform_below(bits, i)]);
  }
  return list;
}

}  // namespace osprey::data::sniper
