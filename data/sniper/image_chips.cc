#include "data/sniper/image_chips.h"

#include <algorithm>
#include <cmath>

#include "data/sniper/chip_random.h"
#include "data/sniper/scale.h"
#include "framework/core/error.h"
#include "ops/common/box_geometry.h"

namespace osprey::data::sniper {
namespace {

bool below_cap(const BoxStats& b, int scale_index, double factor, int stride,
               const SniperConfig& config) {
  const bool last = scale_index + 1 == static_cast<int>(config.scales.size());
  return last || b.max_side < (config.chip_size - stride - 1) / factor;
}

// The boxes at scale s, clipped to the W′×H′ scaled image.
std::vector<Box> scale_boxes(const std::vector<Box>& boxes, const std::vector<int>& ids, double s,
                             ScaledSize size) {
  std::vector<Box> out;
  out.reserve(ids.size());
  for (int id : ids) {
    Box b = boxes[id];
    for (double& v : b) v *= s;
    ops::box::clip(b.data(), double(size.width), double(size.height), 1.0);
    out.push_back(b);
  }
  return out;
}

Chip make_chip(const Box& scaled_chip, double s, int scale_index, ScaledSize size, bool last,
               const SniperConfig& config, bool negative) {
  Chip chip;
  for (int k = 0; k < 4; ++k) chip.box[k] = scaled_chip[k] / s;
  chip.scale = s;
  chip.scale_index = scale_index;
  chip.width = last ? size.width : config.chip_size;
  chip.height = last ? size.height : config.chip_size;
  chip.negative = negative;
  return chip;
}

// Index of the chip (among `chips`) that contains most of `box`, or −1 when none overlaps it.
int best_chip(const std::vector<const Chip*>& chips, const Box& box) {
  int best = -1;
  double best_ratio = 0;
  for (size_t i = 0; i < chips.size(); ++i) {
    const double r = ops::box::iof(box.data(), chips[i]->box.data(), 1.0);
    if (r > best_ratio) {
      best_ratio = r;
      best = static_cast<int>(i);
    }
  }
  return best;
}

// The code's keep rule for a box assigned to `chip`: the clipped box has w, h ≥ 1 and its
// sqrt-area (no +1) within the scale's range.
bool keep_in_chip(const Box& box, const Chip& chip, const ValidRange& range, bool last,
                  bool strict_upper = false) {
  const double x1 = std::max(chip.box[0], box[0]), y1 = std::max(chip.box[1], box[1]);
  const double x2 = std::min(chip.box[2], box[2]), y2 = std::min(chip.box[3], box[3]);
  if (x2 - x1 < 1 || y2 - y1 < 1) return false;
  const double a = std::sqrt(std::abs((x2 - x1) * (y2 - y1)));
  if (last) return range.lo < 0 || a >= range.lo;
  return range.hi < 0 || (strict_upper ? a < range.hi : a <= range.hi);
}

}  // namespace

SniperImage from_annotated(const AnnotatedImage& image, const std::vector<Box>& proposals,
                           bool keep_difficult) {
  OSPREY_CHECK(image.width > 0 && image.height > 0,
               "SNIPER chips: image '{}' has no size ({}x{}); read it first", image.id, image.width,
               image.height);
  SniperImage out{image.width, image.height, {}, proposals, {}};
  for (size_t i = 0; i < image.objects.size(); ++i) {
    const Object& o = image.objects[i];
    if (o.difficult && !keep_difficult) continue;
    out.gt.push_back({o.box[0], o.box[1], o.box[2] - 1.0, o.box[3] - 1.0});
    out.object_ids.push_back(static_cast<int>(i));
  }
  return out;
}

BoxStats box_stats(const Box& box) {
  BoxStats b;
  b.w = static_cast<int>(box[2] - box[0]);
  b.h = static_cast<int>(box[3] - box[1]);
  b.sqrt_area = std::sqrt(double(b.w) * b.h);
  b.max_side = std::max(b.w, b.h);
  return b;
}

bool drives_positive_chip(const BoxStats& b, int i, double factor, int stride,
                          const SniperConfig& config) {
  const ValidRange& r = config.valid_ranges[i];
  // The coarsest (or only) scale: a lower bound only.
  if (i + 1 == static_cast<int>(config.scales.size())) return r.lo < 0 || b.sqrt_area >= r.lo;
  if (r.hi >= 0 && b.sqrt_area >= r.hi) return false;
  if (i == 0) {  // the finest scale: no lower bound, but a minimum side
    if (b.w < config.min_box_side || b.h < config.min_box_side) return false;
  } else if (r.lo >= 0 && b.sqrt_area < r.lo) {
    return false;
  }
  return below_cap(b, i, factor, stride, config);
}

bool valid_for_assignment(const BoxStats& b, int i, double factor, int stride,
                          const SniperConfig& config) {
  const ValidRange& r = config.valid_ranges[i];
  if (i + 1 == static_cast<int>(config.scales.size())) return r.lo < 0 || b.sqrt_area >= r.lo;
  if (r.hi >= 0 && b.sqrt_area >= r.hi) return false;
  if (b.w < config.min_box_side || b.h < config.min_box_side) return false;
  return below_cap(b, i, factor, stride, config);
}

ImageChips image_chips(const SniperImage& image, const SniperConfig& config, int stride,
                       uint64_t seed, int64_t image_index, int64_t epoch) {
  validate(config);
  OSPREY_CHECK(image.width > 0 && image.height > 0,
               "SNIPER chips: image {} has size {}x{}; both must be positive", image_index,
               image.width, image.height);
  const int n_scales = static_cast<int>(config.scales.size());
  // SNIPER's r['boxes']: the ground truth, then (with negative chips) the proposals.
  const int n_gt = static_cast<int>(image.gt.size());
  std::vector<Box> boxes = image.gt;
  if (config.use_negative_chips) {
    boxes.insert(boxes.end(), image.proposals.begin(), image.proposals.end());
  }
  std::vector<BoxStats> stats;
  for (const Box& b : boxes) stats.push_back(box_stats(b));

  ImageChips out;
  for (int i = 0; i < n_scales; ++i) {
    const bool last = i + 1 == n_scales;
    const ValidRange& range = config.valid_ranges[i];
    const double s = scale_factor(config.scales[i], image.width, image.height);
    const ScaledSize size = scaled_size(image.width, image.height, s);
    auto shuffler = [&](ChipPurpose purpose) {
      return [&, purpose](std::vector<Box>& chips) {
        chip_shuffle(chips, seed, epoch, purpose, i, static_cast<uint64_t>(image_index));
      };
    };

    // Positive chips cover the ground truth of this scale.
    std::vector<int> ids;
    for (int j = 0; j < n_gt; ++j) {
      if (drives_positive_chip(stats[j], i, s, stride, config)) ids.push_back(j);
    }
    const size_t first_positive = out.positive.size();
    for (const Box& c :
         generate_chips(scale_boxes(boxes, ids, s, size), size.width, size.height, config.chip_size,
                        stride, shuffler(ChipPurpose::positive_shuffle))) {
      out.positive.push_back(make_chip(c, s, i, size, last, config, false));
    }
    std::vector<const Chip*> scale_chips;
    for (size_t k = first_positive; k < out.positive.size(); ++k) {
      scale_chips.push_back(&out.positive[k]);
    }

    // Every assignment-valid box (ground truth and proposals) goes to its best positive chip;
    // the ground truth kept there is the chip's valid set, and every box kept is covered.
    std::vector<int> uncovered;
    for (int j = 0; j < static_cast<int>(boxes.size()); ++j) {
      if (!valid_for_assignment(stats[j], i, s, stride, config)) continue;
      const int k = best_chip(scale_chips, boxes[j]);
      if (k >= 0 && keep_in_chip(boxes[j], *scale_chips[k], range, last)) {
        if (j < n_gt) out.positive[first_positive + k].gt_ids.push_back(j);
      } else {
        uncovered.push_back(j);
      }
    }

    // Negative chips cover the valid boxes no positive chip took.
    if (!config.use_negative_chips) continue;
    std::vector<Chip> negatives;
    for (const Box& c :
         generate_chips(scale_boxes(boxes, uncovered, s, size), size.width, size.height,
                        config.chip_size, stride, shuffler(ChipPurpose::negative_shuffle))) {
      negatives.push_back(make_chip(c, s, i, size, last, config, true));
    }
    std::vector<const Chip*> neg_ptrs;
    for (const Chip& c : negatives) neg_ptrs.push_back(&c);
    for (int j : uncovered) {
      const int k = best_chip(neg_ptrs, boxes[j]);
      // The code's negative keep rule has a strict upper bound (a < hi) where the positive one
      // has a ≤ hi.
      if (k >= 0 && keep_in_chip(boxes[j], *neg_ptrs[k], range, last, true)) {
        ++negatives[k].proposal_count;
        if (j < n_gt) negatives[k].gt_ids.push_back(j);
      }
    }
    const int threshold = i == 0 ? config.neg_min_proposals_finest : config.neg_min_proposals_other;
    for (Chip& c : negatives) {
      if (c.proposal_count > threshold) out.negative.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace osprey::data::sniper
