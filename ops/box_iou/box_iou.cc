// Schemas, argument checks and cases of box_iou and box_iof (see box_iou.h).
#include "ops/box_iou/box_iou.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_cases.h"
#include "ops/common/box_checks.h"

namespace osprey::ops {
namespace {

void validate_pairwise(const KernelContext& ctx) {
  check_boxes(ctx, 0);
  check_boxes(ctx, 1);
  check_same_dtype(ctx);
}

std::vector<OpCase> pairwise_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  auto boxes = [&](int64_t n) { return random_boxes(rng, n, dtype, 50.0); };
  Tensor degenerate =
      Tensor::from_vector<double>({5, 5, 5, 5, 0, 0, 10, 0, 0, 0, 10, 10}, {3, 4}).to(dtype);
  Tensor nested = Tensor::from_vector<double>({0, 0, 20, 20, 5, 5, 10, 10}, {2, 4}).to(dtype);
  const Attrs plus_one{{"legacy_plus_one", true}};
  return {
      {"random", {boxes(7), boxes(5)}, {}},
      {"many", {boxes(300), boxes(200)}, {}},
      {"legacy-plus-one",
       {random_boxes(rng, 9, dtype, 30, 0, 15, true), random_boxes(rng, 6, dtype, 30, 0, 15, true)},
       plus_one},
      {"degenerate", {degenerate, degenerate}, {}},
      {"degenerate-plus-one", {degenerate, degenerate}, plus_one},
      {"nested", {nested, nested}, {}},
      {"size-1", {boxes(1), boxes(1)}, {}},
      {"empty-first", {boxes(0), boxes(4)}, {}},
      {"empty-second", {boxes(3), boxes(0)}, {}},
      {"non-contiguous", {non_contiguous(boxes(6)), non_contiguous(boxes(8))}, {}},
  };
}

OpDef pairwise_def(const char* name, const char* doc) {
  OpDef def;
  def.schema = {name,
                {{"boxes1", false}, {"boxes2", false}},
                {{"legacy_plus_one", AttrType::boolean, false,
                  "+1 pixel convention (width = x2 - x1 + 1) of py-faster-rcnn / SNIPER"}},
                {{"output", false}},
                doc};
  def.validate = validate_pairwise;
  def.save_inputs = false;
  def.cases = pairwise_cases;
  return def;
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();
  r.add_op(pairwise_def("box_iou", "[N, M] intersection over union of every pair"));
  r.add_op(pairwise_def("box_iof", "[N, M] intersection over the area of the boxes1 box"));
  return true;
}();

}  // namespace

Tensor box_iou(const Tensor& boxes1, const Tensor& boxes2, bool legacy_plus_one) {
  return dispatch::call1("box_iou", {boxes1, boxes2}, Attrs{{"legacy_plus_one", legacy_plus_one}});
}

Tensor box_iof(const Tensor& boxes1, const Tensor& boxes2, bool legacy_plus_one) {
  return dispatch::call1("box_iof", {boxes1, boxes2}, Attrs{{"legacy_plus_one", legacy_plus_one}});
}

}  // namespace osprey::ops
