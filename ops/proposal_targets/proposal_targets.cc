// Schema, argument checks, cases and the C++ function of proposal_targets (see
// proposal_targets.h).
#include "ops/proposal_targets/proposal_targets.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"
#include "ops/common/target_cases.h"
#include "ops/common/target_checks.h"
#include "ops/proposal_targets/proposal_targets_sizes.h"

namespace osprey::ops {
namespace {

constexpr const char* kOp = "proposal_targets";

void check_unit(const Attrs& a, const char* attr) {
  const double v = a.get_float(attr);
  OSPREY_CHECK(v >= 0.0 && v <= 1.0, "{}: attribute '{}' = {} must be in [0, 1]", kOp, attr, v);
}

void validate_proposal_targets(const KernelContext& ctx) {
  using namespace target_checks;
  const Tensor& rois = ctx.input(0);
  const Tensor& gt_boxes = ctx.input(2);
  const Tensor& gt_classes = ctx.input(3);
  const Tensor& group_of = ctx.input(5);
  const Tensor& insert_ranges = ctx.input(6);
  check_shape(kOp, "rois", rois, {-1, -1, 4});
  check_float_like(kOp, "rois", rois, rois);
  const int64_t n = rois.size(0), r = rois.size(1);
  check_shape(kOp, "gt_boxes", gt_boxes, {n, -1, 4});
  check_float_like(kOp, "gt_boxes", gt_boxes, rois);
  const int64_t g = gt_boxes.size(1);
  check_shape(kOp, "gt_classes", gt_classes, {n, g});
  OSPREY_CHECK_KIND(dtype, is_integral(gt_classes.dtype()) && gt_classes.dtype() != DType::boolean,
                    "{}: argument 'gt_classes' must be an integer tensor, got {}", kOp,
                    gt_classes.describe());
  if (group_of.defined()) {
    check_shape(kOp, "gt_group_of", group_of, {n, g});
    OSPREY_CHECK_KIND(dtype, group_of.dtype() == DType::boolean,
                      "{}: argument 'gt_group_of' must be bool, got {}", kOp, group_of.describe());
  }
  if (insert_ranges.defined()) {
    check_shape(kOp, "gt_insert_ranges", insert_ranges, {n, 2});
    check_float_like(kOp, "gt_insert_ranges", insert_ranges, rois);
    check_finite(kOp, "gt_insert_ranges", insert_ranges);
  }
  const std::vector<int64_t> roi_counts = check_counts(kOp, "roi_count", ctx.input(1), n, r);
  const std::vector<int64_t> gt_counts = check_counts(kOp, "gt_count", ctx.input(4), n, g);
  check_box_values(kOp, "rois", rois, &roi_counts);
  check_box_values(kOp, "gt_boxes", gt_boxes, &gt_counts);
  const Attrs& a = ctx.attrs();
  const int64_t classes = a.get_int("num_classes");
  OSPREY_CHECK(classes >= 0, "{}: attribute 'num_classes' = {} must be >= 0", kOp, classes);
  OSPREY_CHECK(a.get_bool("class_agnostic") || classes > 0,
               "{}: per-class targets (class_agnostic=false) need num_classes > 0", kOp);
  std::vector<int64_t> labels = gt_classes.to(DType::i64).to_vector<int64_t>();
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t j = 0; j < gt_counts[b]; ++j) {
      const int64_t c = labels[b * g + j];
      OSPREY_CHECK(c >= 1 && (classes == 0 || c < classes),
                   "{}: argument 'gt_classes' [{}][{}] = {} must be in [1, {}) (0 is background)",
                   kOp, b, j, c, classes == 0 ? std::string("inf") : std::to_string(classes));
    }
  }
  proposal_target_sizes::gt_mode(a);  // checks the name
  check_unit(a, "fg_iou");
  check_unit(a, "bg_iou_lo");
  check_unit(a, "fg_fraction");
  check_unit(a, "group_of_iof");
  OSPREY_CHECK(a.get_float("gt_insert_range_lo") >= 0.0,
               "{}: attribute 'gt_insert_range_lo' = {} must be >= 0", kOp,
               a.get_float("gt_insert_range_lo"));
  const std::vector<double> w = a.get_floats("delta_weights");
  OSPREY_CHECK(w.size() == 4 && w[0] > 0 && w[1] > 0 && w[2] > 0 && w[3] > 0,
               "{}: attribute 'delta_weights' must be 4 positive values (wx, wy, ww, wh), got {}",
               kOp, a.str());
}

Tensor ints(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector<int64_t>(v, shape);
}

Attrs case_attrs(uint64_t seed,
                 std::initializer_list<std::pair<std::string, dispatch::AttrValue>> more) {
  Attrs a{{"seed", static_cast<int64_t>(seed)}, {"offset", int64_t{1}}};
  for (const auto& [k, v] : more) a.set(k, v);
  return a;
}

// RoIs scattered around a few gts in 64 × 64 images, so every IoU band is populated.
std::vector<OpCase> proposal_target_cases(DType dtype, uint64_t seed) {
  using target_cases::random_boxes;
  CaseRandom rng(seed);
  auto rois = [&](int64_t n, int64_t r) { return random_boxes(rng, {n, r}, 48, 8, 24, dtype); };
  auto gts = [&](int64_t n, int64_t g) { return random_boxes(rng, {n, g}, 48, 8, 24, dtype); };
  auto classes = [&](int64_t n, int64_t g) { return rng.uniform({n, g}, DType::i64, 1, 5); };
  Tensor group = Tensor::from_vector<double>({0, 0, 1, 0, 1, 0}, {2, 3}).to(DType::boolean);
  std::vector<OpCase> cases = {
      {"use-all-replace-last",
       {rois(2, 40), ints({40, 25}, {2}), gts(2, 3), classes(2, 3), ints({3, 2}, {2}), Tensor()},
       case_attrs(seed, {})},
      {"append",
       {rois(2, 30), ints({30, 12}, {2}), gts(2, 3), classes(2, 3), ints({2, 3}, {2}), Tensor()},
       case_attrs(seed, {{"gt_mode", std::string("append")}})},
      {"no-gts-inserted",
       {rois(1, 30), ints({30}, {1}), gts(1, 2), classes(1, 2), ints({2}, {1}), Tensor()},
       case_attrs(seed, {{"gt_mode", std::string("none")}, {"bg_iou_lo", 0.1}})},
      {"sampled",
       {rois(3, 60), ints({60, 50, 7}, {3}), gts(3, 4), classes(3, 4), ints({4, 1, 0}, {3}),
        Tensor()},
       case_attrs(seed, {{"batch_size", int64_t{16}}, {"fg_fraction", 0.25}})},
      {"per-class-soft-group-of",
       {rois(2, 40), ints({40, 33}, {2}), gts(2, 3), classes(2, 3), ints({3, 3}, {2}), group},
       case_attrs(seed, {{"class_agnostic", false},
                         {"num_classes", int64_t{5}},
                         {"soft_sampling", true},
                         {"group_of_iof", 0.5}})},
      {"sampled-per-class",
       {rois(2, 50), ints({50, 50}, {2}), gts(2, 3), classes(2, 3), ints({3, 2}, {2}), group},
       case_attrs(seed, {{"batch_size", int64_t{24}},
                         {"class_agnostic", false},
                         {"num_classes", int64_t{5}},
                         {"legacy_plus_one", true}})},
      {"insert-range",
       {rois(2, 20), ints({20, 20}, {2}), gts(2, 4), classes(2, 4), ints({4, 3}, {2}), Tensor()},
       case_attrs(seed, {{"gt_insert_range_lo", 10.0}, {"gt_insert_range_hi", 18.0}})},
      {"per-image-insert-ranges",
       {rois(2, 20), ints({20, 20}, {2}), gts(2, 4), classes(2, 4), ints({4, 3}, {2}), Tensor(),
        Tensor::from_vector<double>({0, 15, 12, -1}, {2, 2}).to(dtype)},
       case_attrs(seed, {})},
      {"zero-gts",
       {rois(2, 10), ints({10, 4}, {2}), gts(2, 0), classes(2, 0), ints({0, 0}, {2}), Tensor()},
       case_attrs(seed, {{"soft_sampling", true}})},
      {"zero-rois",
       {rois(2, 0), ints({0, 0}, {2}), gts(2, 2), classes(2, 2), ints({2, 1}, {2}), Tensor()},
       case_attrs(seed, {{"gt_mode", std::string("append")}})},
      {"empty-batch",
       {rois(0, 5), ints({}, {0}), gts(0, 2), classes(0, 2), ints({}, {0}), Tensor()},
       case_attrs(seed, {})},
      {"non-contiguous",
       {rois(1, 12).transpose(1, 2).contiguous().transpose(1, 2), ints({9}, {1}), gts(1, 2),
        classes(1, 2), ints({2}, {1}), Tensor()},
       case_attrs(seed, {{"batch_size", int64_t{6}}})},
  };
  for (auto& c : cases) c.skip_gradcheck = true;
  return cases;
}

const bool registered = [] {
  OpDef def;
  def.schema = {
      kOp,
      {{"rois", false},
       {"roi_count", false},
       {"gt_boxes", false},
       {"gt_classes", false},
       {"gt_count", false},
       {"gt_group_of", false, true},
       {"gt_insert_ranges", false, true}},
      {{"gt_mode", AttrType::string, std::string("replace_last"),
        "replace_last (SNIPER: gts take the last slots), append, none"},
       {"fg_iou", AttrType::real, 0.5, "foreground when max IoU > this (SNIPER 0.5)"},
       {"bg_iou_lo", AttrType::real, 0.0, "background when max IoU in [this, fg_iou]"},
       {"batch_size", AttrType::integer, int64_t{-1}, "RoIs sampled per image; <= 0: all (SNIPER)"},
       {"fg_fraction", AttrType::real, 0.25, "largest foreground share of batch_size"},
       {"num_classes", AttrType::integer, int64_t{0},
        "classes incl. background (per-class targets)"},
       {"class_agnostic", AttrType::boolean, true, "4 target columns (SNIPER) or 4 per class"},
       {"delta_weights", AttrType::reals, std::vector<double>{10, 10, 5, 5}, "wx, wy, ww, wh"},
       {"gt_insert_range_lo", AttrType::real, 0.0, "inserted gts have sqrt(area) >= this"},
       {"gt_insert_range_hi", AttrType::real, -1.0,
        "inserted gts have sqrt(area) <= this (SNIPER: the valid range); <= 0: no bound"},
       {"soft_sampling", AttrType::boolean, false, "OpenImages background weights"},
       {"group_of_iof", AttrType::real, 0.9, "ignored when inside a group-of gt by more than this"},
       {"legacy_plus_one", AttrType::boolean, false, "SNIPER's +1 pixel convention"},
       {"seed", AttrType::integer, int64_t{0}, "Philox key of the sampling"},
       {"offset", AttrType::integer, int64_t{0}, "first Philox block of the sampling"}},
      {{"rois", false},
       {"labels", false},
       {"label_weights", false},
       {"bbox_targets", false},
       {"bbox_weights", false},
       {"count", false}},
      "RCNN RoIs with class labels, weights and regression targets (padded per image)"};
  def.validate = validate_proposal_targets;
  def.save_inputs = false;
  def.cases = proposal_target_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

ProposalTargets proposal_targets(const Tensor& rois, const Tensor& roi_count,
                                 const Tensor& gt_boxes, const Tensor& gt_classes,
                                 const Tensor& gt_count, const Tensor& gt_group_of,
                                 const ProposalTargetOptions& options, random::Generator& generator,
                                 const Tensor& gt_insert_ranges) {
  const bool shaped =
      rois.defined() && rois.dim() == 3 && gt_boxes.defined() && gt_boxes.dim() == 3;
  const int64_t values = shaped ? rois.size(0) * (rois.size(1) + gt_boxes.size(1)) : 0;
  const random::GeneratorState start = generator.reserve(static_cast<uint64_t>(values));
  Attrs attrs{{"gt_mode", options.gt_mode},
              {"fg_iou", options.fg_iou},
              {"bg_iou_lo", options.bg_iou_lo},
              {"batch_size", options.batch_size},
              {"fg_fraction", options.fg_fraction},
              {"num_classes", options.num_classes},
              {"class_agnostic", options.class_agnostic},
              {"delta_weights", options.delta_weights},
              {"gt_insert_range_lo", options.gt_insert_range_lo},
              {"gt_insert_range_hi", options.gt_insert_range_hi},
              {"soft_sampling", options.soft_sampling},
              {"group_of_iof", options.group_of_iof},
              {"legacy_plus_one", options.legacy_plus_one},
              {"seed", static_cast<int64_t>(start.seed)},
              {"offset", static_cast<int64_t>(start.offset)}};
  auto out = dispatch::call(
      kOp, {rois, roi_count, gt_boxes, gt_classes, gt_count, gt_group_of, gt_insert_ranges}, attrs);
  return {out[0], out[1], out[2], out[3], out[4], out[5]};
}

}  // namespace osprey::ops
