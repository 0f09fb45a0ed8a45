// Schema, argument checks and cases of nms (see nms.h).
#include "ops/nms/nms.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

// CUDA inputs: the values are checked by the CUDA kernel on the device (nms_cuda.cu), no sync here.
void validate_nms(const KernelContext& ctx) {
  const bool host_values = !kernel_checks_values(ctx);
  check_boxes(ctx, 0, host_values);
  check_box_scores(ctx, 1, 0, ctx.input(0).size(0), host_values);
}

// Boxes that all overlap one another: a chain where each suppresses the next.
Tensor overlapping_boxes(DType dtype) {
  return Tensor::from_vector<double>({0, 0, 10, 10, 1,  0,  11, 10, 2,  0,  12, 10,
                                      3, 0, 13, 10, 50, 50, 60, 60, 50, 50, 60, 60},
                                     {6, 4})
      .to(dtype);
}

std::vector<OpCase> nms_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype); };
  auto scores = [&](int64_t n) { return distinct_scores(rng, n, dtype); };
  Tensor tied = Tensor::from_vector<double>({0.5, 0.9, 0.5, 0.5, 0.7, 0.7}, {6}).to(dtype);
  return {
      {"random", {boxes(40), scores(40)}, {{"iou_threshold", 0.5}}},
      {"random-low-threshold", {boxes(60), scores(60)}, {{"iou_threshold", 0.1}}},
      {"many", {boxes(700), scores(700)}, {{"iou_threshold", 0.3}}},
      {"one", {boxes(1), scores(1)}, {{"iou_threshold", 0.5}}},
      {"empty", {boxes(0), scores(0)}, {{"iou_threshold", 0.5}}},
      {"tied-scores", {overlapping_boxes(dtype), tied}, {{"iou_threshold", 0.5}}},
      {"duplicates", {overlapping_boxes(dtype), scores(6)}, {{"iou_threshold", 0.7}}},
      {"legacy-plus-one",
       {random_boxes(rng, 80, dtype, 100, 0, 30, true), scores(80)},
       {{"iou_threshold", 0.4}, {"legacy_plus_one", true}}},
      {"non-contiguous",
       {non_contiguous(boxes(30)), non_contiguous(scores(30))},
       {{"iou_threshold", 0.4}}},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema = {"nms",
                {{"boxes", false}, {"scores", false}},
                {{"iou_threshold", AttrType::real, std::nullopt,
                  "suppress boxes whose IoU with a kept box is greater than this"},
                 {"legacy_plus_one", AttrType::boolean, false,
                  "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"}},
                {{"keep", false}},
                "indices of the boxes greedy NMS keeps, by decreasing score (ties: lower index)"};
  def.validate = validate_nms;
  def.save_inputs = false;
  def.cases = nms_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, bool legacy_plus_one) {
  return dispatch::call1(
      "nms", {boxes, scores},
      Attrs{{"iou_threshold", iou_threshold}, {"legacy_plus_one", legacy_plus_one}});
}

}  // namespace osprey::ops
