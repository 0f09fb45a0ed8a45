// Schema, argument checks and cases of batched_nms (see batched_nms.h).
#include "ops/batched_nms/batched_nms.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

// CUDA inputs: box and score values are checked by the CUDA kernel on the device (nms_cuda.cu).
void validate_batched_nms(const KernelContext& ctx) {
  const bool host_values = !kernel_checks_values(ctx);
  check_boxes(ctx, 0, host_values);
  const int64_t n = ctx.input(0).size(0);
  check_box_scores(ctx, 1, 0, n, host_values);
  const Tensor& idxs = ctx.input(2);
  OSPREY_CHECK_KIND(dtype, idxs.dtype() == DType::i64, "batched_nms: 'idxs' must be i64, got {}",
                    idxs.describe());
  OSPREY_CHECK_KIND(shape, idxs.dim() == 1 && idxs.size(0) == n,
                    "batched_nms: 'idxs' must have shape [{}] (one per box of 'boxes' {}), got {}",
                    n, ctx.input(0).describe(), idxs.describe());
}

Tensor random_groups(CaseRandom& rng, int64_t n, int64_t groups) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& g : v) g = rng.integer(0, groups - 1);
  return Tensor::from_vector<int64_t>(v, {n});
}

std::vector<OpCase> batched_nms_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype, 60.0); };
  auto scores = [&](int64_t n) { return distinct_scores(rng, n, dtype); };
  Tensor same = Tensor::from_vector<double>({0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10}, {3, 4});
  return {
      {"three-groups",
       {boxes(50), scores(50), random_groups(rng, 50, 3)},
       {{"iou_threshold", 0.3}}},
      {"one-group", {boxes(40), scores(40), random_groups(rng, 40, 1)}, {{"iou_threshold", 0.3}}},
      {"many", {boxes(600), scores(600), random_groups(rng, 600, 7)}, {{"iou_threshold", 0.5}}},
      {"identical-boxes-different-groups",
       {same.to(dtype), scores(3), Tensor::from_vector<int64_t>({2, 0, 2}, {3})},
       {{"iou_threshold", 0.5}}},
      {"empty", {boxes(0), scores(0), random_groups(rng, 0, 1)}, {{"iou_threshold", 0.5}}},
      {"legacy-plus-one",
       {random_boxes(rng, 60, dtype, 60, 0, 20, true), scores(60), random_groups(rng, 60, 2)},
       {{"iou_threshold", 0.4}, {"legacy_plus_one", true}}},
      {"non-contiguous",
       {non_contiguous(boxes(30)), non_contiguous(scores(30)),
        non_contiguous(random_groups(rng, 30, 2))},
       {{"iou_threshold", 0.4}}},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema = {"batched_nms",
                {{"boxes", false}, {"scores", false}, {"idxs", false}},
                {{"iou_threshold", AttrType::real, std::nullopt,
                  "suppress boxes whose IoU with a kept box of their group is greater"},
                 {"legacy_plus_one", AttrType::boolean, false,
                  "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"}},
                {{"keep", false}},
                "indices NMS keeps within each group of idxs, by decreasing score"};
  def.validate = validate_batched_nms;
  def.save_inputs = false;
  def.cases = batched_nms_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& idxs,
                   double iou_threshold, bool legacy_plus_one) {
  return dispatch::call1(
      "batched_nms", {boxes, scores, idxs},
      Attrs{{"iou_threshold", iou_threshold}, {"legacy_plus_one", legacy_plus_one}});
}

}  // namespace osprey::ops
