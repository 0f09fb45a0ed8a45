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
  // Each image's chips of the epoch: its positives, then the sampled negatives.
  std::vector<std::vector<ChipRef>> crops(chips.size());
  std::vector<int64_t> image_index;  // one entry per chip, as the code's `chipindex`
  for (size_t i = 0; i < chips.size(); ++i) {
    const auto image = static_cast<int64_t>(i);
    for (size_t k = 0; k < chips[i].positive.size(); ++k)
      crops[i].push_back({image, int(k), false});
    std::vector<int> neg(chips[i].negative.size());
    std::iota(neg.begin(), neg.end(), 0);
    const size_t take = std::min(neg.size(), size_t(config_.neg_chips_per_image));
    if (take < neg.size()) {  // a partial Fisher–Yates: `take` distinct negatives
      for (size_t k = 0; k < take; ++k) {
        const uint32_t bits =
            chip_random_bits(seed_, epoch, ChipPurpose::negative_sample, 0, uint64_t(i), k);
        std::swap(neg[k], neg[k + uniform_below(bits, neg.size() - k)]);
      }
    }
    for (size_t k = 0; k < take; ++k) crops[i].push_back({image, neg[k], true});
    image_index.insert(image_index.end(), crops[i].size(), image);
  }
  if (image_index.empty()) return {};
  // Pad with the first entries (np.hstack((chipindex, chipindex[0:extra]))), then permute.
  const size_t n = image_index.size(), batch = size_t(config_.batch_size);
  for (size_t k = 0; k < (batch - n % batch) % batch; ++k)
    image_index.push_back(image_index[k % n]);
  for (size_t i = image_index.size(); i > 1; --i) {
    const uint32_t bits =
        chip_random_bits(seed_, epoch, ChipPurpose::epoch_permutation, 0, (i - 1) >> 2, i - 1);
    std::swap(image_index[i - 1], image_index[uniform_below(bits, i)]);
  }
  // Each draw of an image takes the next chip of that image's random chip order (cyclically, so
  // the padding repeats chips).
  std::vector<std::vector<int>> order(chips.size());
  std::vector<size_t> drawn(chips.size(), 0);
  std::vector<ChipRef> list;
  list.reserve(image_index.size());
  for (int64_t image : image_index) {
    std::vector<int>& o = order[image];
    if (o.empty()) {
      o.resize(crops[image].size());
      std::iota(o.begin(), o.end(), 0);
      chip_shuffle(o, seed_, epoch, ChipPurpose::chip_order, 0, uint64_t(image));
    }
    list.push_back(crops[image][o[drawn[image]++ % o.size()]]);
  }
  return list;
}

}  // namespace osprey::data::sniper
