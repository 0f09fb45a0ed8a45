// Schema, argument checks and cases of soft_nms (see soft_nms.h).
#include "ops/soft_nms/soft_nms.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

void validate_soft_nms(const KernelContext& ctx) {
  check_boxes(ctx, 0);
  check_box_scores(ctx, 1, 0, ctx.input(0).size(0));
  const Attrs& a = ctx.attrs();
  const std::string& method = a.get_string("method");
  OSPREY_CHECK(method == "gaussian" || method == "linear" || method == "hard",
               "soft_nms: 'method' must be gaussian, linear or hard, got '{}'", method);
  OSPREY_CHECK(a.get_float("sigma") > 0.0, "soft_nms: 'sigma' must be positive, got {}",
               a.get_float("sigma"));
}

std::vector<OpCase> soft_nms_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype, 60.0); };
  auto scores = [&](int64_t n) { return distinct_scores(rng, n, dtype); };
  Tensor tied = Tensor::from_vector<double>({0.5, 0.9, 0.5, 0.5, 0.9, 0.2}, {6}).to(dtype);
  return {
      {"gaussian", {boxes(40), scores(40)}, {}},
      {"gaussian-sniper",
       {random_boxes(rng, 80, dtype, 60, 0, 25, true), scores(80)},
       {{"sigma", 0.55}, {"legacy_plus_one", true}}},
      {"linear", {boxes(40), scores(40)}, {{"method", std::string("linear")}}},
      {"hard", {boxes(40), scores(40)}, {{"method", std::string("hard")}}},
      {"high-score-threshold", {boxes(50), scores(50)}, {{"score_threshold", 0.3}}},
      {"tied-scores", {random_boxes(rng, 6, dtype, 10.0), tied}, {}},
      {"empty", {boxes(0), scores(0)}, {}},
      {"non-contiguous", {non_contiguous(boxes(30)), non_contiguous(scores(30))}, {}},
  };
}

const bool registered = [] {
  OpDef def;
  def.schema = {
      "soft_nms",
      {{"boxes", false}, {"scores", false}},
      {{"method", AttrType::string, std::string("gaussian"), "gaussian, linear or hard"},
       {"sigma", AttrType::real, 0.5, "gaussian decay: score *= exp(-IoU^2 / sigma)"},
       {"iou_threshold", AttrType::real, 0.3, "linear and hard: decay only above this IoU"},
       {"score_threshold", AttrType::real, 0.001, "drop boxes whose decayed score is below"},
       {"legacy_plus_one", AttrType::boolean, false,
        "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"}},
      {{"keep", false}, {"new_scores", false}},
      "selected boxes' indices in selection order and their decayed scores (cpu_soft_nms)"};
  def.validate = validate_soft_nms;
  def.save_inputs = false;
  def.cases = soft_nms_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

std::pair<Tensor, Tensor> soft_nms(const Tensor& boxes, const Tensor& scores,
                                   const SoftNmsOptions& o) {
  auto out = dispatch::call("soft_nms", {boxes, scores},
                            Attrs{{"method", o.method},
                                  {"sigma", o.sigma},
                                  {"iou_threshold", o.iou_threshold},
                                  {"score_threshold", o.score_threshold},
                                  {"legacy_plus_one", o.legacy_plus_one}});
  return {out[0], out[1]};
}

}  // namespace osprey::ops
