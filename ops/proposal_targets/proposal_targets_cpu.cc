// cpu/reference kernel of proposal_targets: one image after another, the steps of
// proposal_targets.h in order (candidate list, labels, selection, outputs), with the per-candidate
// arithmetic of proposal_targets_math.h that the CUDA kernel shares. f32 and f64.
#include <vector>

#include "ops/common/op_helpers.h"
#include "ops/common/target_sampling.h"
#include "ops/proposal_targets/proposal_targets_sizes.h"
#include "ops/random/random_elements.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

namespace math = proposal_target_math;
using proposal_target_sizes::Sizes;

struct Settings {
  int mode;
  int64_t batch_size, fg_quota;
  bool class_agnostic;
  random_detail::PhiloxPosition position;
};

// Keeps the candidates of `wanted` label kind (fg: > 0, bg: == 0) with the smallest keys.
std::vector<int64_t> sample(const std::vector<int64_t>& labels, bool foreground, int64_t quota,
                            uint64_t first_element, const Settings& s) {
  auto wanted = [&](int64_t l) { return foreground ? l > 0 : l == 0; };
  auto key = [&](int64_t c) {
    return sampling::sample_key(s.position.seed, s.position.offset,
                                first_element + static_cast<uint64_t>(c), static_cast<uint32_t>(c));
  };
  std::vector<uint64_t> keys;
  for (size_t c = 0; c < labels.size(); ++c) {
    if (wanted(labels[c])) keys.push_back(key(static_cast<int64_t>(c)));
  }
  const uint64_t threshold = sampling::keep_threshold(keys, quota);
  std::vector<int64_t> kept;
  for (size_t c = 0; c < labels.size(); ++c) {
    if (wanted(labels[c]) && key(static_cast<int64_t>(c)) < threshold) {
      kept.push_back(static_cast<int64_t>(c));
    }
  }
  return kept;
}

template <typename T>
struct Outputs {
  T *rois, *label_weights, *targets, *weights;
  int64_t *labels, *count;
};

template <typename T>
void one_image(int64_t b, const T* rois, int64_t roi_count, const T* gts, const int64_t* classes,
               const bool* group_of, int64_t gt_count, const Sizes& z, const math::Params<T>& p,
               const box::DeltaWeights<T>& dw, const Settings& s, const Outputs<T>& out) {
  std::vector<int64_t> inserted;
  for (int64_t j = 0; j < gt_count; ++j) {
    if (math::inserted_gt(gts, group_of, j, p)) inserted.push_back(j);
  }
  const math::Split split =
      math::split(s.mode, roi_count, z.slots, static_cast<int64_t>(inserted.size()));
  const int64_t count = split.rois + split.gts;
  std::vector<T> boxes(static_cast<size_t>(4 * count));
  std::vector<int64_t> labels(static_cast<size_t>(count)), matched(static_cast<size_t>(count));
  std::vector<T> best(static_cast<size_t>(count));
  for (int64_t c = 0; c < count; ++c) {
    const T* src = c < split.rois ? rois + 4 * c : gts + 4 * inserted[c - split.rois];
    for (int k = 0; k < 4; ++k) boxes[4 * c + k] = src[k];
    labels[c] = math::label_of(boxes.data() + 4 * c, gts, classes, group_of, gt_count, p,
                               &matched[c], &best[c]);
  }
  std::vector<int64_t> order;
  if (s.batch_size > 0) {
    const uint64_t first = static_cast<uint64_t>(b * z.candidates);
    order = sample(labels, true, s.fg_quota, first, s);
    const std::vector<int64_t> bg =
        sample(labels, false, s.batch_size - static_cast<int64_t>(order.size()), first, s);
    order.insert(order.end(), bg.begin(), bg.end());
  } else {
    for (int64_t c = 0; c < count; ++c) order.push_back(c);
  }
  out.count[b] = static_cast<int64_t>(order.size());
  for (int64_t slot = 0; slot < z.out_slots; ++slot) {
    const int64_t i = b * z.out_slots + slot;
    T* targets = out.targets + i * z.target_columns;
    T* weights = out.weights + i * z.target_columns;
    for (int64_t k = 0; k < z.target_columns; ++k) targets[k] = weights[k] = T(0);
    if (slot >= static_cast<int64_t>(order.size())) {
      for (int k = 0; k < 4; ++k) out.rois[4 * i + k] = T(0);
      out.labels[i] = -1;
      out.label_weights[i] = T(0);
      continue;
    }
    const int64_t c = order[slot];
    for (int k = 0; k < 4; ++k) out.rois[4 * i + k] = boxes[4 * c + k];
    out.labels[i] = labels[c];
    out.label_weights[i] = math::label_weight(labels[c], best[c], p.soft_sampling);
    if (labels[c] > 0) {
      const int64_t column = s.class_agnostic ? 0 : 4 * labels[c];
      box::encode(boxes.data() + 4 * c, gts + 4 * matched[c], dw, p.offset, targets + column);
      for (int k = 0; k < 4; ++k) weights[column + k] = T(1);
    }
  }
}

void proposal_targets_reference(KernelContext& ctx) {
  Tensor rois = ctx.input(0).contiguous();
  std::vector<int64_t> roi_count = ctx.input(1).to(DType::i64).to_vector<int64_t>();
  Tensor gts = ctx.input(2).contiguous();
  std::vector<int64_t> classes = ctx.input(3).to(DType::i64).to_vector<int64_t>();
  std::vector<int64_t> gt_count = ctx.input(4).to(DType::i64).to_vector<int64_t>();
  Tensor group_of = ctx.input(5).defined() ? ctx.input(5).contiguous() : Tensor();
  Tensor ranges = ctx.input(6).defined() ? ctx.input(6).contiguous() : Tensor();
  const Attrs& a = ctx.attrs();
  const Sizes z = proposal_target_sizes::sizes(rois.size(0), rois.size(1), gts.size(1), a);
  const DType dtype = rois.dtype();
  const Tensor& rois_out = ctx.output(0, {z.images, z.out_slots, 4}, dtype);
  const Tensor& labels_out = ctx.output(1, {z.images, z.out_slots}, DType::i64);
  const Tensor& label_weights_out = ctx.output(2, {z.images, z.out_slots}, dtype);
  const Tensor& targets_out = ctx.output(3, {z.images, z.out_slots, z.target_columns}, dtype);
  const Tensor& weights_out = ctx.output(4, {z.images, z.out_slots, z.target_columns}, dtype);
  const Tensor& count_out = ctx.output(5, {z.images}, DType::i64);
  const Settings s{proposal_target_sizes::gt_mode(a), a.get_int("batch_size"),
                   proposal_target_sizes::fg_quota(a), a.get_bool("class_agnostic"),
                   random_detail::philox_position(ctx)};
  const std::vector<double> w = a.get_floats("delta_weights");
  OSPREY_DISPATCH_FLOAT(dtype, "proposal_targets", [&]<typename T>() {
    const math::Params<T> p = proposal_target_sizes::params<T>(a);
    box::DeltaWeights<T> dw;
    dw.wx = T(w[0]), dw.wy = T(w[1]), dw.ww = T(w[2]), dw.wh = T(w[3]);
    Tensor r = cpu_scratch_for(rois_out), l = cpu_scratch_for(labels_out);
    Tensor lw = cpu_scratch_for(label_weights_out), t = cpu_scratch_for(targets_out);
    Tensor tw = cpu_scratch_for(weights_out), c = cpu_scratch_for(count_out);
    const Outputs<T> out{r.data<T>(),  lw.data<T>(),      t.data<T>(),
                         tw.data<T>(), l.data<int64_t>(), c.data<int64_t>()};
    for (int64_t b = 0; b < z.images; ++b) {
      one_image<T>(b, rois.data<T>() + 4 * z.slots * b, roi_count[b], gts.data<T>() + 4 * z.gts * b,
                   classes.data() + z.gts * b,
                   group_of.defined() ? group_of.data<bool>() + z.gts * b : nullptr, gt_count[b], z,
                   math::for_image(p, ranges.defined() ? ranges.data<T>() : nullptr, b), dw, s,
                   out);
    }
    cpu_store<T>(rois_out, r);
    cpu_store<int64_t>(labels_out, l);
    cpu_store<T>(label_weights_out, lw);
    cpu_store<T>(targets_out, t);
    cpu_store<T>(weights_out, tw);
    cpu_store<int64_t>(count_out, c);
  });
}

const bool registered = [] {
  register_kernel("proposal_targets", DeviceType::cpu, "reference", 0, proposal_targets_reference,
                  {}, "images one after another, candidates x gts loops");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
