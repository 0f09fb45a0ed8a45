// cpu/segmented kernel of rpn_proposals: the CUDA kernel's algorithm on the host, step for step,
// so the case-list comparison with cpu/reference checks it without a GPU. Every (image, anchor)
// is decoded (dropped boxes ranked at -inf), each image's row sorted (stable, descending), the
// first min(survivors, cap) boxes gathered into a (N, cap) segment layout, and one segmented
// bitmask NMS (ops/nms/segmented_nms.h: mask_host, scan_host) runs over all images at once; the
// first post_nms_top_n kept boxes of each image are written. f32 and f64.
#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "ops/common/op_helpers.h"
#include "ops/nms/segmented_nms.h"
#include "ops/reduce/reduce_util.h"
#include "ops/rpn_proposals/rpn_proposals_sizes.h"

namespace osprey::ops {
namespace {

namespace math = rpn_proposal_math;

void rpn_proposals_segmented(KernelContext& ctx) {
  Tensor scores = ctx.input(0).contiguous();
  Tensor deltas = ctx.input(1).contiguous();
  Tensor anchors = ctx.input(2).contiguous();
  Tensor image_sizes = ctx.input(3).contiguous();
  Tensor ranges = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor();
  const Attrs& at = ctx.attrs();
  const int64_t n = scores.size(0), a = anchors.size(0);
  const int64_t pre = at.get_int("pre_nms_top_n"), post = at.get_int("post_nms_top_n");
  const int64_t cap = pre > 0 ? std::min(pre, a) : a;
  const DType dtype = anchors.dtype();
  const Tensor& rois_out = ctx.output(0, {n, post, 4}, dtype);
  const Tensor& scores_out = ctx.output(1, {n, post}, dtype);
  const Tensor& count_out = ctx.output(2, {n}, DType::i64);
  OSPREY_DISPATCH_FLOAT(dtype, "rpn_proposals", [&]<typename T>() {
    const math::Params<T> p = math::params<T>(at);
    Tensor rois = cpu_scratch_for(rois_out), kept_scores = cpu_scratch_for(scores_out);
    Tensor count = cpu_scratch_for(count_out);
    std::fill(rois.data<T>(), rois.data<T>() + rois.numel(), T(0));
    std::fill(kept_scores.data<T>(), kept_scores.data<T>() + kept_scores.numel(), T(0));
    // 1. decode (the CUDA decode kernel): boxes, ranks, survivors per image.
    std::vector<T> boxes(static_cast<size_t>(4 * n * a)), ranked(static_cast<size_t>(n * a));
    std::vector<int64_t> lengths(static_cast<size_t>(n), 0);
    for (int64_t i = 0; i < n * a; ++i) {
      const int64_t b = i / a;
      const unsigned nan = math::nan_flags(scores.data<T>()[i], deltas.data<T>() + 4 * i);
      if (nan != 0) math::check_nan_flags(nan, fmt::format(" (image {}, anchor {})", b, i % a));
      T rank;
      const bool keep = math::proposal(
          anchors.data<T>() + 4 * (i % a), deltas.data<T>() + 4 * i, scores.data<T>()[i],
          image_sizes.data<T>()[2 * b], image_sizes.data<T>()[2 * b + 1],
          math::for_image(p, ranges.defined() ? ranges.data<T>() : nullptr, b), &boxes[4 * i],
          &rank);
      ranked[i] = keep ? rank : -std::numeric_limits<T>::infinity();
      lengths[b] += keep ? 1 : 0;
    }
    // 2. sort each row (the sort op) and 3. gather the first lengths[b] <= cap boxes.
    std::vector<T> candidates(static_cast<size_t>(4 * n * cap)),
        candidate_scores(static_cast<size_t>(n * cap));
    std::vector<int64_t> order(static_cast<size_t>(a));
    for (int64_t b = 0; b < n; ++b) {
      std::iota(order.begin(), order.end(), int64_t{0});
      const T* row = ranked.data() + b * a;
      std::stable_sort(order.begin(), order.end(),
                       [row](int64_t i, int64_t j) { return row[i] > row[j]; });
      lengths[b] = std::min(lengths[b], cap);
      for (int64_t r = 0; r < lengths[b]; ++r) {
        std::copy_n(&boxes[4 * (b * a + order[r])], 4, &candidates[4 * (b * cap + r)]);
        candidate_scores[b * cap + r] = row[order[r]];
      }
    }
    // 4. segmented bitmask NMS over all images.
    const T threshold = static_cast<T>(at.get_float("nms_iou"));
    // Images in launch groups as on the GPU, the mask buffer reused by each group.
    const int64_t group = segmented_nms::segments_per_launch(cap, n);
    std::vector<uint64_t> mask(static_cast<size_t>(group * cap * segmented_nms::words_for(cap)));
    std::vector<int64_t> keep(static_cast<size_t>(n * cap)), kept(static_cast<size_t>(n));
    for (int64_t b0 = 0; b0 < n; b0 += group) {
      const int64_t images = std::min(group, n - b0);
      segmented_nms::mask_host(images, cap, lengths.data() + b0, candidates.data() + 4 * b0 * cap,
                               nullptr, threshold, p.offset, mask.data());
      segmented_nms::scan_host(images, cap, lengths.data() + b0, mask.data(), nullptr,
                               keep.data() + b0 * cap, kept.data() + b0);
    }
    // 5. the first post_nms_top_n kept boxes (the CUDA write kernel).
    for (int64_t b = 0; b < n; ++b) {
      const int64_t m = std::min(post, kept[b]);
      for (int64_t r = 0; r < m; ++r) {
        const int64_t c = b * cap + keep[b * cap + r];
        std::copy_n(&candidates[4 * c], 4, rois.data<T>() + 4 * (b * post + r));
        kept_scores.data<T>()[b * post + r] = candidate_scores[c];
      }
      count.data<int64_t>()[b] = m;
    }
    cpu_store<T>(rois_out, rois);
    cpu_store<T>(scores_out, kept_scores);
    cpu_store<int64_t>(count_out, count);
  });
}

bool float_scores(const KernelContext& ctx) {
  const DType d = ctx.input(0).dtype();
  return d == DType::f32 || d == DType::f64;
}

const bool registered = [] {
  register_kernel("rpn_proposals", DeviceType::cpu, "segmented", -10, rpn_proposals_segmented,
                  float_scores,
                  "the CUDA algorithm on the host: one segmented bitmask NMS over all images");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
