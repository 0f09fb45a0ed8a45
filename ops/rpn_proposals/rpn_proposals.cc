// Schema, argument checks, cases and the C++ function of rpn_proposals (see rpn_proposals.h).
#include "ops/rpn_proposals/rpn_proposals.h"

#include "framework/dispatch/registry.h"
#include "ops/common/box_checks.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/common/target_cases.h"
#include "ops/common/target_checks.h"
#include "ops/rpn_proposals/rpn_proposals_sizes.h"

namespace osprey::ops {
namespace {

constexpr const char* kOp = "rpn_proposals";

void validate_rpn_proposals(const KernelContext& ctx) {
  using namespace target_checks;
  const Tensor& scores = ctx.input(0);
  const Tensor& deltas = ctx.input(1);
  const Tensor& anchors = ctx.input(2);
  const Tensor& image_sizes = ctx.input(3);
  const Tensor& valid_ranges = ctx.input(4);
  check_shape(kOp, "anchors", anchors, {-1, 4});
  check_float_like(kOp, "anchors", anchors, anchors);
  const int64_t a = anchors.size(0);
  check_shape(kOp, "scores", scores, {-1, a});
  check_float_like(kOp, "scores", scores, anchors);
  const int64_t n = scores.size(0);
  check_shape(kOp, "deltas", deltas, {n, a, 4});
  check_float_like(kOp, "deltas", deltas, anchors);
  check_shape(kOp, "image_sizes", image_sizes, {n, 2});
  check_float_like(kOp, "image_sizes", image_sizes, anchors);
  // CUDA inputs: the value checks run on the device inside the kernel (rpn_proposals_cuda.cu),
  // whose one read-back carries their flag; it calls rpn_proposals_check_values on the error path.
  const bool host_values = !kernel_checks_values(ctx);
  if (valid_ranges.defined()) {
    check_shape(kOp, "valid_ranges", valid_ranges, {n, 2});
    check_float_like(kOp, "valid_ranges", valid_ranges, anchors);
  }
  if (host_values) rpn_proposals_check_values(anchors, image_sizes, valid_ranges);
  const Attrs& at = ctx.attrs();
  OSPREY_CHECK(at.get_int("pre_nms_top_n") >= 0 && at.get_int("post_nms_top_n") >= 0,
               "{}: pre_nms_top_n = {} and post_nms_top_n = {} must be >= 0", kOp,
               at.get_int("pre_nms_top_n"), at.get_int("post_nms_top_n"));
  const double iou = at.get_float("nms_iou");
  OSPREY_CHECK(iou >= 0.0 && iou <= 1.0, "{}: attribute 'nms_iou' = {} must be in [0, 1]", kOp,
               iou);
  OSPREY_CHECK(at.get_float("min_size") >= 0.0 && at.get_float("valid_range_lo") >= 0.0,
               "{}: min_size = {} and valid_range_lo = {} must be >= 0", kOp,
               at.get_float("min_size"), at.get_float("valid_range_lo"));
}

Attrs case_attrs(int64_t pre, int64_t post) {
  return {{"pre_nms_top_n", pre}, {"post_nms_top_n", post}};
}

// Random objectness and small deltas over a dense 8 × 8 anchor grid in 64 × 64 images.
std::vector<OpCase> rpn_proposal_cases(DType dtype, uint64_t seed) {
  CaseRandom rng(seed);
  Tensor anchors = target_cases::grid_anchors(8, 8, {8, 16, 24, 32}, dtype);
  const int64_t a = anchors.size(0);
  auto scores = [&](int64_t n, int64_t count) { return rng.uniform({n, count}, dtype, 0, 1); };
  auto deltas = [&](int64_t n, int64_t count) {
    return rng.uniform({n, count, 4}, dtype, -0.3, 0.3);
  };
  auto sizes = [&](std::vector<double> v) {
    const auto n = static_cast<int64_t>(v.size() / 2);
    return Tensor::from_vector<double>(v, {n, 2}).to(dtype);
  };
  Attrs ranged = case_attrs(0, 40);
  ranged.set("valid_range_lo", 10.0);
  ranged.set("valid_range_hi", 24.0);
  Attrs legacy = case_attrs(100, 20);
  legacy.set("legacy_plus_one", true);
  legacy.set("nms_iou", 0.5);
  Attrs huge_min = case_attrs(0, 10);
  huge_min.set("min_size", 100.0);
  std::vector<OpCase> cases = {
      {"all-anchors",
       {scores(2, a), deltas(2, a), anchors, sizes({64, 64, 48, 56})},
       case_attrs(0, 30)},
      {"pre-top-n",
       {scores(3, a), deltas(3, a), anchors, sizes({64, 64, 64, 40, 30, 64})},
       case_attrs(50, 20)},
      {"post-exceeds-kept",
       {scores(1, a), deltas(1, a), anchors, sizes({64, 64})},
       case_attrs(12, 300)},
      {"valid-range", {scores(2, a), deltas(2, a), anchors, sizes({64, 64, 64, 64})}, ranged},
      {"legacy-plus-one", {scores(2, a), deltas(2, a), anchors, sizes({64, 64, 50, 50})}, legacy},
      {"all-too-small", {scores(1, a), deltas(1, a), anchors, sizes({64, 64})}, huge_min},
      {"zero-anchors",
       {scores(2, 0), deltas(2, 0), anchors.narrow(0, 0, 0), sizes({64, 64, 64, 64})},
       case_attrs(0, 5)},
      {"empty-batch", {scores(0, a), deltas(0, a), anchors, sizes({})}, case_attrs(0, 5)},
      {"per-image-ranges",
       {scores(3, a), deltas(3, a), anchors, sizes({64, 64, 64, 64, 64, 64}),
        Tensor::from_vector<double>({0, 12, 12, 30, 20, -1}, {3, 2}).to(dtype)},
       case_attrs(0, 40)},
      {"non-contiguous",
       {non_contiguous(scores(2, a)), deltas(2, a), non_contiguous(anchors),
        sizes({64, 64, 64, 64})},
       case_attrs(30, 10)},
  };
  for (auto& c : cases) c.skip_gradcheck = true;
  return cases;
}

const bool registered = [] {
  OpDef def;
  def.schema = {
      kOp,
      {{"scores", false},
       {"deltas", false},
       {"anchors", false},
       {"image_sizes", false},
       {"valid_ranges", false, true}},
      {{"pre_nms_top_n", AttrType::integer, int64_t{0}, "best boxes NMS sees; 0: all (SNIPER)"},
       {"post_nms_top_n", AttrType::integer, int64_t{300}, "proposals kept per image (SNIPER)"},
       {"nms_iou", AttrType::real, 0.7, "NMS suppresses IoU above this (SNIPER 0.7)"},
       {"min_size", AttrType::real, 3.0, "boxes with a side below this are dropped"},
       {"valid_range_lo", AttrType::real, 0.0, "sqrt-area lower bound of the valid range"},
       {"valid_range_hi", AttrType::real, -1.0, "sqrt-area upper bound; <= 0: no range filter"},
       {"legacy_plus_one", AttrType::boolean, false, "SNIPER's +1 pixel convention"}},
      {{"rois", false}, {"roi_scores", false}, {"count", false}},
      "decoded, clipped, filtered, NMSed RPN proposals per image (padded, with counts)"};
  def.validate = validate_rpn_proposals;
  def.save_inputs = false;
  def.cases = rpn_proposal_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

void rpn_proposals_check_values(const Tensor& anchors, const Tensor& image_sizes,
                                const Tensor& valid_ranges) {
  using namespace target_checks;
  check_box_values(kOp, "anchors", anchors);
  check_image_sizes(kOp, "image_sizes", image_sizes);
  if (valid_ranges.defined()) check_finite(kOp, "valid_ranges", valid_ranges);
}

RpnProposals rpn_proposals(const Tensor& scores, const Tensor& deltas, const Tensor& anchors,
                           const Tensor& image_sizes, const RpnProposalOptions& options,
                           const Tensor& valid_ranges) {
  Attrs attrs{{"pre_nms_top_n", options.pre_nms_top_n},
              {"post_nms_top_n", options.post_nms_top_n},
              {"nms_iou", options.nms_iou},
              {"min_size", options.min_size},
              {"valid_range_lo", options.valid_range_lo},
              {"valid_range_hi", options.valid_range_hi},
              {"legacy_plus_one", options.legacy_plus_one}};
  auto out = dispatch::call(kOp, {scores, deltas, anchors, image_sizes, valid_ranges}, attrs);
  return {out[0], out[1], out[2]};
}

}  // namespace osprey::ops
