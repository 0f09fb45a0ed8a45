// cpu/reference kernel of anchor_targets: one image after another, the steps of anchor_targets.h
// in order (inside test, each gt's best IoU, labels, sampling, regression targets), with the
// per-anchor arithmetic of anchor_targets_math.h that the CUDA kernel shares. f32 and f64.
#include <vector>

#include "ops/anchor_targets/anchor_targets_math.h"
#include "ops/common/op_helpers.h"
#include "ops/common/target_sampling.h"
#include "ops/random/random_elements.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

namespace math = anchor_target_math;

struct Sampling {
  int64_t batch_size;
  double fg_fraction;
  random_detail::PhiloxPosition position;
};

// Keeps the `quota` anchors of `label` with the smallest keys; the others become -1.
void subsample(int64_t* labels, int64_t count, int64_t label, int64_t quota, uint64_t first_element,
               const Sampling& s) {
  std::vector<uint64_t> keys;
  for (int64_t a = 0; a < count; ++a) {
    if (labels[a] == label) {
      keys.push_back(sampling::sample_key(s.position.seed, s.position.offset,
                                          first_element + static_cast<uint64_t>(a),
                                          static_cast<uint32_t>(a)));
    }
  }
  const uint64_t threshold = sampling::keep_threshold(keys, quota);
  for (int64_t a = 0; a < count; ++a) {
    if (labels[a] != label) continue;
    const uint64_t key =
        sampling::sample_key(s.position.seed, s.position.offset,
                             first_element + static_cast<uint64_t>(a), static_cast<uint32_t>(a));
    if (!(key < threshold)) labels[a] = -1;
  }
}

template <typename T>
void one_image(const T* anchors, int64_t count, const T* gts, const bool* ignore, int64_t gt_count,
               const T* image_size, const math::Params<T>& p, const Sampling& s,
               uint64_t first_element, int64_t* labels, T* targets, T* weights) {
  std::vector<char> inside(static_cast<size_t>(count));
  for (int64_t a = 0; a < count; ++a) {
    inside[a] = math::inside(anchors + 4 * a, image_size[0], image_size[1], p.allowed_border);
  }
  std::vector<T> gt_best(static_cast<size_t>(gt_count), T(0));
  for (int64_t j = 0; j < gt_count; ++j) {
    if (!math::valid_gt(ignore, j)) continue;
    for (int64_t a = 0; a < count; ++a) {
      if (inside[a])
        gt_best[j] = box::max_of(gt_best[j], box::iou(anchors + 4 * a, gts + 4 * j, p.offset));
    }
  }
  std::vector<int64_t> matched(static_cast<size_t>(count), -1);
  for (int64_t a = 0; a < count; ++a) {
    labels[a] = inside[a] ? math::label_before_sampling(anchors + 4 * a, gts, ignore, gt_count,
                                                        gt_best.data(), p, &matched[a])
                          : -1;
  }
  if (s.batch_size > 0) {
    const auto fg_quota = static_cast<int64_t>(s.fg_fraction * static_cast<double>(s.batch_size));
    subsample(labels, count, 1, fg_quota, first_element, s);
    int64_t fg = 0;
    for (int64_t a = 0; a < count; ++a) fg += labels[a] == 1;
    subsample(labels, count, 0, s.batch_size - fg, first_element, s);
  }
  const box::DeltaWeights<T> unit{};
  for (int64_t a = 0; a < count; ++a) {
    const bool fg = labels[a] == 1;
    if (fg) box::encode(anchors + 4 * a, gts + 4 * matched[a], unit, p.offset, targets + 4 * a);
    for (int k = 0; k < 4; ++k) {
      if (!fg) targets[4 * a + k] = T(0);
      weights[4 * a + k] = fg ? T(1) : T(0);
    }
  }
}

void anchor_targets_reference(KernelContext& ctx) {
  Tensor anchors = ctx.input(0).contiguous();
  Tensor gt_boxes = ctx.input(1).contiguous();
  std::vector<int64_t> gt_count = ctx.input(2).to(DType::i64).to_vector<int64_t>();
  Tensor image_sizes = ctx.input(3).contiguous();
  Tensor gt_ignore = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor();
  const int64_t n = gt_boxes.size(0), g = gt_boxes.size(1), count = anchors.size(0);
  const Attrs& attrs = ctx.attrs();
  const Tensor& labels_out = ctx.output(0, {n, count}, DType::i64);
  const Tensor& targets_out = ctx.output(1, {n, count, 4}, anchors.dtype());
  const Tensor& weights_out = ctx.output(2, {n, count, 4}, anchors.dtype());
  const Sampling s{attrs.get_int("batch_size"), attrs.get_float("fg_fraction"),
                   random_detail::philox_position(ctx)};
  OSPREY_DISPATCH_FLOAT(anchors.dtype(), "anchor_targets", [&]<typename T>() {
    const math::Params<T> p{T(attrs.get_float("positive_iou")), T(attrs.get_float("negative_iou")),
                            T(attrs.get_float("ignore_iou")), T(attrs.get_float("allowed_border")),
                            attrs.get_bool("legacy_plus_one") ? T(1) : T(0)};
    Tensor labels = cpu_scratch_for(labels_out);
    Tensor targets = cpu_scratch_for(targets_out);
    Tensor weights = cpu_scratch_for(weights_out);
    for (int64_t b = 0; b < n; ++b) {
      one_image<T>(anchors.data<T>(), count, gt_boxes.data<T>() + 4 * g * b,
                   gt_ignore.defined() ? gt_ignore.data<bool>() + g * b : nullptr, gt_count[b],
                   image_sizes.data<T>() + 2 * b, p, s, static_cast<uint64_t>(b * count),
                   labels.data<int64_t>() + b * count, targets.data<T>() + 4 * b * count,
                   weights.data<T>() + 4 * b * count);
    }
    cpu_store<int64_t>(labels_out, labels);
    cpu_store<T>(targets_out, targets);
    cpu_store<T>(weights_out, weights);
  });
}

const bool registered = [] {
  register_kernel("anchor_targets", DeviceType::cpu, "reference", 0, anchor_targets_reference, {},
                  "images one after another, anchors x gts loops");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
