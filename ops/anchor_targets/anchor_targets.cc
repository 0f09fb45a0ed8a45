// Schema, argument checks, cases and the C++ function of anchor_targets (see anchor_targets.h).
#include "ops/anchor_targets/anchor_targets.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/common/target_cases.h"
#include "ops/common/target_checks.h"

namespace osprey::ops {
namespace {

constexpr const char* kOp = "anchor_targets";

void check_fraction(const char* attr, double v, bool zero_ok) {
  OSPREY_CHECK((zero_ok ? v >= 0.0 : v > 0.0) && v <= 1.0, "{}: attribute '{}' = {} must be in {}",
               kOp, attr, v, zero_ok ? "[0, 1]" : "(0, 1]");
}

void validate_anchor_targets(const KernelContext& ctx) {
  using namespace target_checks;
  const Tensor& anchors = ctx.input(0);
  const Tensor& gt_boxes = ctx.input(1);
  const Tensor& image_sizes = ctx.input(3);
  const Tensor& gt_ignore = ctx.input(4);
  check_shape(kOp, "anchors", anchors, {-1, 4});
  check_float_like(kOp, "anchors", anchors, anchors);
  check_shape(kOp, "gt_boxes", gt_boxes, {-1, -1, 4});
  check_float_like(kOp, "gt_boxes", gt_boxes, anchors);
  const int64_t n = gt_boxes.size(0), g = gt_boxes.size(1);
  check_shape(kOp, "image_sizes", image_sizes, {n, 2});
  check_float_like(kOp, "image_sizes", image_sizes, anchors);
  if (gt_ignore.defined()) {
    check_shape(kOp, "gt_ignore", gt_ignore, {n, g});
    OSPREY_CHECK_KIND(dtype, gt_ignore.dtype() == DType::boolean,
                      "{}: argument 'gt_ignore' must be bool, got {}", kOp, gt_ignore.describe());
  }
  const std::vector<int64_t> counts = check_counts(kOp, "gt_count", ctx.input(2), n, g);
  check_box_values(kOp, "anchors", anchors);
  check_box_values(kOp, "gt_boxes", gt_boxes, &counts);
  check_image_sizes(kOp, "image_sizes", image_sizes);
  const Attrs& a = ctx.attrs();
  check_fraction("positive_iou", a.get_float("positive_iou"), false);
  check_fraction("negative_iou", a.get_float("negative_iou"), true);
  check_fraction("ignore_iou", a.get_float("ignore_iou"), true);
  check_fraction("fg_fraction", a.get_float("fg_fraction"), true);
  OSPREY_CHECK(a.get_float("negative_iou") <= a.get_float("positive_iou"),
               "{}: negative_iou = {} must not exceed positive_iou = {}", kOp,
               a.get_float("negative_iou"), a.get_float("positive_iou"));
}

Attrs case_attrs(uint64_t seed, int64_t batch_size, double fg_fraction = 0.5) {
  return {{"batch_size", batch_size},
          {"fg_fraction", fg_fraction},
          {"seed", static_cast<int64_t>(seed)},
          {"offset", int64_t{3}}};
}

Tensor counts(std::vector<int64_t> values) {
  const auto n = static_cast<int64_t>(values.size());
  return Tensor::from_vector<int64_t>(values, {n});
}

Tensor sizes(int64_t n, double side, DType dtype) {
  return Tensor::from_vector<double>(std::vector<double>(static_cast<size_t>(2 * n), side), {n, 2})
      .to(dtype);
}

// 4 × 4 and 8 × 8 grids of anchors over 64 × 64 images with random gts: the case list that the CPU
// kernels and the CUDA parity test compare on.
std::vector<OpCase> anchor_target_cases(DType dtype, uint64_t seed) {
  using target_cases::grid_anchors;
  using target_cases::random_boxes;
  CaseRandom rng(seed);
  Tensor small_anchors = grid_anchors(4, 16, {16, 32, 48}, dtype);
  Tensor dense_anchors = grid_anchors(8, 8, {8, 16, 24, 32}, dtype);
  auto gts = [&](int64_t n, int64_t g) { return random_boxes(rng, {n, g}, 56, 6, 30, dtype); };
  Tensor ignore = Tensor::from_vector<double>({0, 1, 0, 0, 1, 0, 0, 0}, {2, 4}).to(DType::boolean);
  Attrs legacy = case_attrs(seed, 64);
  legacy.set("legacy_plus_one", true);
  Attrs borderless = case_attrs(seed, 0);
  borderless.set("allowed_border", -1.0);
  Attrs tight = case_attrs(seed, 0);
  tight.set("allowed_border", 0.0);
  std::vector<OpCase> cases = {
      {"small",
       {small_anchors, gts(2, 3), counts({3, 1}), sizes(2, 64, dtype), Tensor()},
       case_attrs(seed, 256)},
      {"sampled",
       {dense_anchors, gts(2, 5), counts({5, 4}), sizes(2, 64, dtype), Tensor()},
       case_attrs(seed, 32, 0.25)},
      {"sampled-batch-4",
       {dense_anchors, gts(4, 6), counts({6, 2, 0, 5}), sizes(4, 64, dtype), Tensor()},
       case_attrs(seed + 1, 16)},
      {"ignores",
       {dense_anchors, gts(2, 4), counts({4, 2}), sizes(2, 64, dtype), ignore},
       case_attrs(seed, 48)},
      {"no-gt",
       {small_anchors, gts(2, 2), counts({0, 0}), sizes(2, 64, dtype), Tensor()},
       case_attrs(seed, 20)},
      {"no-gt-columns",
       {small_anchors, gts(2, 0), counts({0, 0}), sizes(2, 64, dtype), Tensor()},
       case_attrs(seed, 256)},
      {"zero-anchors",
       {small_anchors.narrow(0, 0, 0), gts(2, 3), counts({3, 1}), sizes(2, 64, dtype), Tensor()},
       case_attrs(seed, 256)},
      {"empty-batch",
       {small_anchors, gts(0, 3), counts({}), sizes(0, 64, dtype), Tensor()},
       case_attrs(seed, 256)},
      {"legacy-plus-one",
       {dense_anchors, gts(2, 3), counts({3, 3}), sizes(2, 64, dtype), Tensor()},
       legacy},
      {"no-border-test",
       {small_anchors, gts(1, 3), counts({3}), sizes(1, 48, dtype), Tensor()},
       borderless},
      {"tight-border",
       {small_anchors, gts(1, 3), counts({2}), sizes(1, 64, dtype), Tensor()},
       tight},
      {"non-contiguous-anchors",
       {non_contiguous(small_anchors), gts(1, 3), counts({3}), sizes(1, 64, dtype), Tensor()},
       case_attrs(seed, 256)},
  };
  for (auto& c : cases) c.skip_gradcheck = true;
  return cases;
}

const bool registered = [] {
  OpDef def;
  def.schema = {
      kOp,
      {{"anchors", false},
       {"gt_boxes", false},
       {"gt_count", false},
       {"image_sizes", false},
       {"gt_ignore", false, true}},
      {{"positive_iou", AttrType::real, 0.5, "foreground at IoU >= this (SNIPER 0.5)"},
       {"negative_iou", AttrType::real, 0.4, "background below this max IoU (SNIPER 0.4)"},
       {"ignore_iou", AttrType::real, 0.3,
        "ignored above this IoU with an ignored gt (SNIPER 0.3)"},
       {"batch_size", AttrType::integer, int64_t{256}, "anchors sampled per image; <= 0: all"},
       {"fg_fraction", AttrType::real, 0.5, "largest foreground share of batch_size"},
       {"allowed_border", AttrType::real, 32.0, "anchors may reach this far out; < 0: no test"},
       {"legacy_plus_one", AttrType::boolean, false, "SNIPER's +1 pixel convention"},
       {"seed", AttrType::integer, int64_t{0}, "Philox key of the sampling"},
       {"offset", AttrType::integer, int64_t{0}, "first Philox block of the sampling"}},
      {{"labels", false}, {"bbox_targets", false}, {"bbox_weights", false}},
      "RPN labels (1 fg, 0 bg, -1 ignored), regression targets and weights per anchor"};
  def.validate = validate_anchor_targets;
  def.save_inputs = false;
  def.cases = anchor_target_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

AnchorTargets anchor_targets(const Tensor& anchors, const Tensor& gt_boxes, const Tensor& gt_count,
                             const Tensor& image_sizes, const Tensor& gt_ignore,
                             const AnchorTargetOptions& options, random::Generator& generator) {
  const int64_t values = (gt_boxes.defined() && gt_boxes.dim() > 0 ? gt_boxes.size(0) : 0) *
                         (anchors.defined() && anchors.dim() > 0 ? anchors.size(0) : 0);
  const random::GeneratorState start = generator.reserve(static_cast<uint64_t>(values));
  Attrs attrs{{"positive_iou", options.positive_iou},
              {"negative_iou", options.negative_iou},
              {"ignore_iou", options.ignore_iou},
              {"batch_size", options.batch_size},
              {"fg_fraction", options.fg_fraction},
              {"allowed_border", options.allowed_border},
              {"legacy_plus_one", options.legacy_plus_one},
              {"seed", static_cast<int64_t>(start.seed)},
              {"offset", static_cast<int64_t>(start.offset)}};
  auto out = dispatch::call(kOp, {anchors, gt_boxes, gt_count, image_sizes, gt_ignore}, attrs);
  return {out[0], out[1], out[2]};
}

}  // namespace osprey::ops
