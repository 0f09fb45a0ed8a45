// cpu/reference kernel of rpn_proposals: per image, every anchor decoded and filtered
// (rpn_proposals_math.h, shared with CUDA), a stable sort by score, then the `nms` op on the
// pre-NMS top N (dispatched: the fastest CPU nms kernel runs). f32 and f64.
#include <algorithm>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "framework/autograd/grad_mode.h"
#include "ops/common/op_helpers.h"
#include "ops/nms/nms.h"
#include "ops/reduce/reduce_util.h"
#include "ops/rpn_proposals/rpn_proposals_sizes.h"

namespace osprey::ops {
namespace {

namespace math = rpn_proposal_math;

void rpn_proposals_reference(KernelContext& ctx) {
  autograd::NoGradGuard no_grad;
  Tensor scores = ctx.input(0).contiguous();
  Tensor deltas = ctx.input(1).contiguous();
  Tensor anchors = ctx.input(2).contiguous();
  Tensor image_sizes = ctx.input(3).contiguous();
  Tensor ranges = ctx.input(4).defined() ? ctx.input(4).contiguous() : Tensor();
  const Attrs& at = ctx.attrs();
  const int64_t n = scores.size(0), a = anchors.size(0);
  const int64_t pre = at.get_int("pre_nms_top_n"), post = at.get_int("post_nms_top_n");
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
    std::vector<T> boxes(static_cast<size_t>(4 * a)), ranked(static_cast<size_t>(a));
    for (int64_t b = 0; b < n; ++b) {
      const T* size = image_sizes.data<T>() + 2 * b;
      const math::Params<T> pb =
          math::for_image(p, ranges.defined() ? ranges.data<T>() : nullptr, b);
      std::vector<int64_t> order;
      for (int64_t i = 0; i < a; ++i) {
        const unsigned nan =
            math::nan_flags(scores.data<T>()[b * a + i], deltas.data<T>() + 4 * (b * a + i));
        if (nan != 0) math::check_nan_flags(nan, fmt::format(" (image {}, anchor {})", b, i));
        if (math::proposal(anchors.data<T>() + 4 * i, deltas.data<T>() + 4 * (b * a + i),
                           scores.data<T>()[b * a + i], size[0], size[1], pb, &boxes[4 * i],
                           &ranked[i])) {
          order.push_back(i);
        }
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t i, int64_t j) { return ranked[i] > ranked[j]; });
      if (pre > 0 && static_cast<int64_t>(order.size()) > pre) order.resize(pre);
      const auto k = static_cast<int64_t>(order.size());
      Tensor candidates = Tensor::empty({k, 4}, dtype),
             candidate_scores = Tensor::empty({k}, dtype);
      for (int64_t r = 0; r < k; ++r) {
        std::copy_n(&boxes[4 * order[r]], 4, candidates.data<T>() + 4 * r);
        candidate_scores.data<T>()[r] = ranked[order[r]];
      }
      std::vector<int64_t> keep =
          nms(candidates, candidate_scores, at.get_float("nms_iou"), at.get_bool("legacy_plus_one"))
              .to_vector<int64_t>();
      const int64_t m = std::min<int64_t>(post, static_cast<int64_t>(keep.size()));
      for (int64_t r = 0; r < m; ++r) {
        std::copy_n(candidates.data<T>() + 4 * keep[r], 4, rois.data<T>() + 4 * (b * post + r));
        kept_scores.data<T>()[b * post + r] = candidate_scores.data<T>()[keep[r]];
      }
      count.data<int64_t>()[b] = m;
    }
    cpu_store<T>(rois_out, rois);
    cpu_store<T>(scores_out, kept_scores);
    cpu_store<int64_t>(count_out, count);
  });
}

const bool registered = [] {
  register_kernel("rpn_proposals", DeviceType::cpu, "reference", 0, rpn_proposals_reference, {},
                  "per image: decode loop, stable sort, the nms op");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
