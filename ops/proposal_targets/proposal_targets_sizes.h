// Host-side pieces of proposal_targets shared by its schema and both kernels: the gt_mode name and
// the output sizes (see proposal_targets.h).
#pragma once

#include <cstdint>
#include <string>

#include "framework/core/error.h"
#include "framework/dispatch/attributes.h"
#include "ops/proposal_targets/proposal_targets_math.h"

namespace osprey::ops::proposal_target_sizes {

inline int gt_mode(const dispatch::Attrs& attrs) {
  const std::string& mode = attrs.get_string("gt_mode");
  if (mode == "replace_last") return proposal_target_math::kReplaceLast;
  if (mode == "append") return proposal_target_math::kAppend;
  if (mode == "none") return proposal_target_math::kNone;
  OSPREY_THROW(value,
               "proposal_targets: attribute 'gt_mode' = '{}' is not one of replace_last, append, "
               "none",
               mode);
}

struct Sizes {
  int64_t images, slots, gts;  // N, R, G
  int64_t candidates;          // per image at most: R + G (the Philox stride)
  int64_t out_slots;           // S
  int64_t target_columns;      // K
};

inline Sizes sizes(int64_t n, int64_t r, int64_t g, const dispatch::Attrs& attrs) {
  const int64_t batch = attrs.get_int("batch_size");
  const bool append = gt_mode(attrs) == proposal_target_math::kAppend;
  const int64_t k = attrs.get_bool("class_agnostic") ? 4 : 4 * attrs.get_int("num_classes");
  return {n, r, g, r + g, batch > 0 ? batch : r + (append ? g : 0), k};
}

template <typename T>
proposal_target_math::Params<T> params(const dispatch::Attrs& a) {
  const double lo = a.get_float("gt_insert_range_lo"), hi = a.get_float("gt_insert_range_hi");
  return {T(a.get_float("fg_iou")),       T(a.get_float("bg_iou_lo")),
          T(a.get_float("group_of_iof")), a.get_bool("legacy_plus_one") ? T(1) : T(0),
          a.get_bool("soft_sampling"),    T(lo * lo),
          hi > 0 ? T(hi * hi) : T(0)};
}

// round(fg_fraction · batch_size), halves away from zero.
inline int64_t fg_quota(const dispatch::Attrs& attrs) {
  return static_cast<int64_t>(
      attrs.get_float("fg_fraction") * static_cast<double>(attrs.get_int("batch_size")) + 0.5);
}

}  // namespace osprey::ops::proposal_target_sizes
