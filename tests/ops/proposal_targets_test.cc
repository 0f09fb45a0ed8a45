// proposal_targets: hand-worked labels (strict fg threshold, group-of ignores), the three gt modes,
// class-agnostic and per-class targets, soft-sampling weights, sampling quotas and determinism,
// empty inputs, and one test per bad argument.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/random/generator.h"
#include "ops/proposal_targets/proposal_targets.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::ProposalTargetOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

Tensor boxes(const std::vector<double>& v, const Shape& shape, DType dtype = DType::f64) {
  return Tensor::from_vector<double>(v, shape).to(dtype);
}
Tensor ints(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector<int64_t>(v, shape);
}
std::vector<double> values(const Tensor& t) {
  return t.to(DType::f64).to_vector<double>();
}

// gts: g0 (0,0,10,10) class 3, g1 (20,20,40,40) class 1, g2 (50,50,100,100) group-of.
// RoIs and their labels, by hand:
//   r0 (0,0,10,12)   IoU 100/120 = 0.83 with g0        -> 3
//   r1 (0,0,10,20)   IoU 0.5 with g0, not > 0.5        -> 0
//   r2 (20,20,40,36) IoU 320/400 = 0.8 with g1         -> 1
//   r3 (60,60,70,70) all of it inside group-of g2      -> -1
//   r4 (5,5,15,15)   IoU 25/175 = 0.14 with g0         -> 0
const std::vector<double> kRois = {0,  0,  10, 12, 0,  0,  10, 20, 20, 20,
                                   40, 36, 60, 60, 70, 70, 5,  5,  15, 15};
const std::vector<double> kGts = {0, 0, 10, 10, 20, 20, 40, 40, 50, 50, 100, 100};

ops::ProposalTargets run(const ProposalTargetOptions& o, DType dtype = DType::f64) {
  Tensor group = Tensor::from_vector<double>({0, 0, 1}, {1, 3}).to(DType::boolean);
  return ops::proposal_targets(boxes(kRois, {1, 5, 4}, dtype), ints({5}, {1}),
                               boxes(kGts, {1, 3, 4}, dtype), ints({3, 1, 1}, {1, 3}),
                               ints({3}, {1}), group, o);
}

TEST(ProposalTargets, ReplaceLastIsSniperLayout) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for_each_cpu_kernel("proposal_targets", [&] {
      auto t = run({}, dtype);
      // Two labelling gts take the last two of the five slots: r0, r1, r2, g0, g1.
      EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, 3, 1}));
      EXPECT_EQ(t.count.to_vector<int64_t>(), (std::vector<int64_t>{5}));
      std::vector<double> r = values(t.rois);
      EXPECT_EQ(std::vector<double>(r.begin() + 12, r.end()),
                (std::vector<double>{0, 0, 10, 10, 20, 20, 40, 40}));
      EXPECT_EQ(values(t.label_weights), (std::vector<double>{1, 1, 1, 1, 1}));
      // r0 onto g0 with weights (10, 10, 5, 5): dy = 10 (5 - 6) / 12, dh = 5 log(10 / 12).
      std::vector<double> d = values(t.bbox_targets);
      EXPECT_NEAR(d[0], 0.0, 1e-6);
      EXPECT_NEAR(d[1], -10.0 / 12.0, 1e-5);
      EXPECT_NEAR(d[2], 0.0, 1e-6);
      EXPECT_NEAR(d[3], 5 * std::log(10.0 / 12.0), 1e-5);
      EXPECT_EQ(values(t.bbox_weights),
                (std::vector<double>{1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
      for (int k = 4; k < 8; ++k) EXPECT_EQ(d[k], 0.0);            // background r1
      for (int k = 12; k < 16; ++k) EXPECT_NEAR(d[k], 0.0, 1e-6);  // g0 onto itself
    });
  }
}

TEST(ProposalTargets, OnlyGtsInTheInsertRangeAreInserted) {
  ProposalTargetOptions o;
  o.gt_insert_range_hi = 12;  // g0 (area 100) is inserted, g1 (area 400) is not but still labels
  auto t = run(o);
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, -1, 3}));
  o.gt_insert_range_lo = 11;  // neither
  EXPECT_EQ(run(o).labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, -1, 0}));
}

TEST(ProposalTargets, PerImageInsertRanges) {
  // The same image twice: image 0 inserts gts up to sqrt(area) 12 (g0 only), image 1 from 12 up
  // (g1 only).
  std::vector<double> rois = kRois, gts = kGts;
  rois.insert(rois.end(), kRois.begin(), kRois.end());
  gts.insert(gts.end(), kGts.begin(), kGts.end());
  Tensor group = Tensor::from_vector<double>({0, 0, 1, 0, 0, 1}, {2, 3}).to(DType::boolean);
  random::Generator gen(1);
  auto t = ops::proposal_targets(boxes(rois, {2, 5, 4}), ints({5, 5}, {2}), boxes(gts, {2, 3, 4}),
                                 ints({3, 1, 1, 3, 1, 1}, {2, 3}), ints({3, 3}, {2}), group, {},
                                 gen, boxes({0, 12, 12, -1}, {2, 2}));
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, -1, 3, 3, 0, 1, -1, 1}));
  EXPECT_TRUE(error_message([&] {
                ops::proposal_targets(boxes(rois, {2, 5, 4}), ints({5, 5}, {2}),
                                      boxes(gts, {2, 3, 4}), ints({3, 1, 1, 3, 1, 1}, {2, 3}),
                                      ints({3, 3}, {2}), group, {}, gen,
                                      boxes({0, 12, 12, std::nan("")}, {2, 2}));
              }).find("argument 'gt_insert_ranges' element 3") != std::string::npos);
}

TEST(ProposalTargets, AppendAndNoneModes) {
  ProposalTargetOptions o;
  o.gt_mode = "append";
  auto t = run(o);
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, -1, 0, 3, 1, -1}));
  EXPECT_EQ(t.count.to_vector<int64_t>(), (std::vector<int64_t>{7}));
  EXPECT_EQ(values(t.label_weights), (std::vector<double>{1, 1, 1, 0, 1, 1, 1, 0}));
  o.gt_mode = "none";
  t = run(o);
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, -1, 0}));
  // bg_iou_lo 0.2: r4 (max IoU 0.14) is neither foreground nor background.
  o.bg_iou_lo = 0.2;
  EXPECT_EQ(run(o).labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1, -1, -1}));
}

TEST(ProposalTargets, PerClassTargetsAndSoftSampling) {
  ProposalTargetOptions o;
  o.gt_mode = "none";
  o.class_agnostic = false;
  o.num_classes = 4;
  o.soft_sampling = true;
  auto t = run(o);
  EXPECT_EQ(t.bbox_targets.shape(), (Shape{1, 5, 16}));
  std::vector<double> w = values(t.bbox_weights), d = values(t.bbox_targets);
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(w[k], k >= 12 ? 1.0 : 0.0) << "r0 (class 3) column " << k;
    EXPECT_EQ(w[32 + k], k >= 4 && k < 8 ? 1.0 : 0.0) << "r2 (class 1) column " << k;
  }
  EXPECT_NEAR(d[13], -10.0 / 12.0, 1e-12);
  auto soft = [](double iou) { return 0.25 + 0.75 * std::exp(-50 * std::exp(-20 * iou)); };
  std::vector<double> lw = values(t.label_weights);
  EXPECT_EQ(lw[0], 1.0);
  EXPECT_NEAR(lw[1], soft(0.5), 1e-12);
  EXPECT_EQ(lw[2], 1.0);
  EXPECT_EQ(lw[3], 0.0);
  EXPECT_NEAR(lw[4], soft(25.0 / 175.0), 1e-12);
  EXPECT_LT(lw[4], 0.3);
}

TEST(ProposalTargets, WithoutGroupOfInputEveryGtLabels) {
  auto t = ops::proposal_targets(boxes(kRois, {1, 5, 4}), ints({5}, {1}), boxes(kGts, {1, 3, 4}),
                                 ints({3, 1, 2}, {1, 3}), ints({3}, {1}));
  // g2 is a labelling gt now: three gts replace the last three slots: r0, r1, g0, g1, g2.
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 3, 1, 2}));
}

struct Random {
  Tensor rois, gts, classes;
};
Random random_case() {
  std::vector<double> r, g = {10, 10, 30, 30, 40, 50, 70, 80, 60, 5, 90, 30};
  for (int i = 0; i < 30; ++i) {  // gts shifted by 0..3 pixels: IoU > 0.5
    const double* box = g.data() + 4 * (i % 3);
    const double d = (i / 3) % 4;
    r.insert(r.end(), {box[0] + d, box[1] + d, box[2] + d, box[3] + d});
  }
  for (int i = 30; i < 200; ++i) {
    const double x = (i * 37) % 90, y = (i * 53) % 90, s = 8 + (i * 7) % 20;
    r.insert(r.end(), {x, y, x + s, y + s});
  }
  return {boxes(r, {1, 200, 4}), boxes(g, {1, 3, 4}), ints({1, 2, 1}, {1, 3})};
}

std::vector<double> sampled_rois(const Random& c, uint64_t seed, std::vector<int64_t>* labels) {
  ProposalTargetOptions o;
  o.batch_size = 32;
  o.fg_fraction = 0.25;
  random::Generator gen(seed);
  auto t = ops::proposal_targets(c.rois, ints({200}, {1}), c.gts, c.classes, ints({3}, {1}),
                                 Tensor(), o, gen);
  if (labels) *labels = t.labels.to_vector<int64_t>();
  return values(t.rois);
}

TEST(ProposalTargets, SamplingQuotasOrderAndDeterminism) {
  Random c = random_case();
  auto all = ops::proposal_targets(c.rois, ints({200}, {1}), c.gts, c.classes, ints({3}, {1}));
  int64_t fg_all = 0;
  for (int64_t l : all.labels.to_vector<int64_t>()) fg_all += l > 0;
  ASSERT_GT(fg_all, 8);
  std::vector<int64_t> labels;
  std::vector<double> first = sampled_rois(c, 3, &labels);
  ASSERT_EQ(labels.size(), 32u);
  for (int i = 0; i < 8; ++i) EXPECT_GT(labels[i], 0) << "slot " << i;
  for (int i = 8; i < 32; ++i) EXPECT_EQ(labels[i], 0) << "slot " << i;
  EXPECT_EQ(sampled_rois(c, 3, nullptr), first);
  EXPECT_NE(sampled_rois(c, 4, nullptr), first);
}

TEST(ProposalTargets, EmptyInputs) {
  auto no_gts = ops::proposal_targets(boxes(kRois, {1, 5, 4}), ints({3}, {1}), boxes({}, {1, 0, 4}),
                                      ints({}, {1, 0}), ints({0}, {1}));
  EXPECT_EQ(no_gts.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, -1, -1}));
  EXPECT_EQ(no_gts.count.to_vector<int64_t>(), (std::vector<int64_t>{3}));
  ProposalTargetOptions o;
  o.gt_mode = "append";
  auto no_rois = ops::proposal_targets(boxes({}, {1, 0, 4}), ints({0}, {1}), boxes(kGts, {1, 3, 4}),
                                       ints({3, 1, 1}, {1, 3}), ints({2}, {1}), Tensor(), o);
  EXPECT_EQ(no_rois.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, -1}));
  auto none = ops::proposal_targets(boxes({}, {0, 4, 4}), ints({}, {0}), boxes({}, {0, 2, 4}),
                                    ints({}, {0, 2}), ints({}, {0}));
  EXPECT_EQ(none.rois.shape(), (Shape{0, 4, 4}));
}

TEST(ProposalTargets, BadArgumentsNameTheOpAndArgument) {
  Tensor r = boxes(kRois, {1, 5, 4}), g = boxes(kGts, {1, 3, 4});
  Tensor cls = ints({3, 1, 1}, {1, 3});
  auto call = [&](const Tensor& rois, const Tensor& rc, const Tensor& gts, const Tensor& classes,
                  const Tensor& gc, const Tensor& group = Tensor(),
                  const ProposalTargetOptions& o = {}) {
    return error_message([&] { ops::proposal_targets(rois, rc, gts, classes, gc, group, o); });
  };
  auto has = [](const std::string& message, const char* part) {
    return message.find(part) != std::string::npos;
  };
  std::vector<double> nan_roi = kRois;
  nan_roi[2] = std::nan("");
  EXPECT_TRUE(has(call(boxes(nan_roi, {1, 5, 4}), ints({5}, {1}), g, cls, ints({3}, {1})),
                  "proposal_targets: argument 'rois' box 0"));
  std::vector<double> flipped = kGts;
  flipped[5] = 50;  // y1 > y2
  EXPECT_TRUE(has(call(r, ints({5}, {1}), boxes(flipped, {1, 3, 4}), cls, ints({3}, {1})),
                  "'gt_boxes' box 1"));
  EXPECT_TRUE(
      has(call(r, ints({6}, {1}), g, cls, ints({3}, {1})), "'roi_count' [0] = 6 is out of range"));
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, cls, ints({4}, {1})), "'gt_count'"));
  EXPECT_TRUE(has(call(r, ints({5}, {1}), boxes(kGts, {3, 1, 4}), cls, ints({3}, {1})),
                  "'gt_boxes' must have shape"));
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, ints({3, 1}, {1, 2}), ints({3}, {1})),
                  "'gt_classes' must have shape"));
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, ints({3, 0, 1}, {1, 3}), ints({3}, {1})),
                  "'gt_classes' [0][1] = 0"));
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, cls, ints({3}, {1}),
                       Tensor::from_vector<double>({0, 1}, {1, 2}).to(DType::boolean)),
                  "'gt_group_of'"));
  ProposalTargetOptions bad_mode;
  bad_mode.gt_mode = "prepend";
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, cls, ints({3}, {1}), Tensor(), bad_mode),
                  "'gt_mode' = 'prepend'"));
  ProposalTargetOptions per_class;
  per_class.class_agnostic = false;
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, cls, ints({3}, {1}), Tensor(), per_class),
                  "need num_classes > 0"));
  per_class.num_classes = 3;
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, cls, ints({3}, {1}), Tensor(), per_class),
                  "'gt_classes' [0][0] = 3 must be in [1, 3)"));
  ProposalTargetOptions bad_weights;
  bad_weights.delta_weights = {10, 10, 5};
  EXPECT_TRUE(has(call(r, ints({5}, {1}), g, cls, ints({3}, {1}), Tensor(), bad_weights),
                  "'delta_weights'"));
}

}  // namespace
}  // namespace osprey
