// anchor_targets: hand-worked labels (IoU thresholds, the best-anchor rule, ignores, the border),
// regression targets, sampling quotas and determinism, empty inputs, and one test per bad argument.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/dispatch/registry.h"
#include "framework/random/generator.h"
#include "ops/anchor_targets/anchor_targets.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::AnchorTargetOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

Tensor boxes(const std::vector<double>& v, const Shape& shape, DType dtype = DType::f64) {
  return Tensor::from_vector<double>(v, shape).to(dtype);
}
Tensor counts(const std::vector<int64_t>& v) {
  return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

// Anchors (image 100 x 100, border 0) and the label each gets, worked out by hand:
//   a0 (0,0,10,10)     IoU 1 with g0                          -> 1
//   a1 (0,0,10,20)     IoU 100/200 = 0.5 with g0 (>= 0.5)     -> 1
//   a2 (50,50,60,60)   IoU 0.25 with g1, g1's best anchor     -> 1 (best-anchor rule)
//   a3 (62,50,72,60)   IoU 80/420 = 0.19 with g1 (< 0.4)      -> 0
//   a4 (80,80,90,90)   IoU 100/196 = 0.51 with ignored g2     -> -1 (ignore rule)
//   a5 (95,95,110,110) reaches past the image                 -> -1 (border)
//   a6 (0,0,10,24)     IoU 100/240 = 0.42 with g0, in [0.4, 0.5) -> -1
//   a7 (30,30,40,40)   no overlap                             -> 0
const std::vector<double> kAnchors = {0,   0,   10, 10, 0,  0,  10, 20, 50, 50, 60,
                                      60,  62,  50, 72, 60, 80, 80, 90, 90, 95, 95,
                                      110, 110, 0,  0,  10, 24, 30, 30, 40, 40};
const std::vector<double> kGts = {0, 0, 10, 10, 50, 50, 70, 70, 78, 78, 92, 92};

AnchorTargetOptions no_sampling() {
  AnchorTargetOptions o;
  o.batch_size = 0;
  o.allowed_border = 0;
  return o;
}

TEST(AnchorTargets, HandWorkedLabelsAndTargets) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for_each_cpu_kernel("anchor_targets", [&] {
      Tensor ignore = Tensor::from_vector<double>({0, 0, 1}, {1, 3}).to(DType::boolean);
      auto t =
          ops::anchor_targets(boxes(kAnchors, {8, 4}, dtype), boxes(kGts, {1, 3, 4}, dtype),
                              counts({3}), boxes({100, 100}, {1, 2}, dtype), ignore, no_sampling());
      EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1, 0, -1, -1, -1, 0}));
      std::vector<double> targets = t.bbox_targets.to(DType::f64).to_vector<double>();
      std::vector<double> weights = t.bbox_weights.to(DType::f64).to_vector<double>();
      const std::vector<double> expected_a1 = {0, -0.25, 0, std::log(0.5)};
      const std::vector<double> expected_a2 = {0.5, 0.5, std::log(2.0), std::log(2.0)};
      for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(targets[k], 0.0, 1e-6);
        EXPECT_NEAR(targets[4 + k], expected_a1[k], 1e-6);
        EXPECT_NEAR(targets[8 + k], expected_a2[k], 1e-6);
        for (int a = 0; a < 8; ++a) {
          EXPECT_EQ(weights[4 * a + k], a < 3 ? 1.0 : 0.0) << "anchor " << a;
          if (a >= 3) {
            EXPECT_EQ(targets[4 * a + k], 0.0) << "anchor " << a;
          }
        }
      }
    });
  }
}

TEST(AnchorTargets, IgnoredGtDoesNotMakeForeground) {
  // Without the ignore flag g2 is g2's own best anchor's gt: a4 becomes foreground.
  auto t = ops::anchor_targets(boxes(kAnchors, {8, 4}), boxes(kGts, {1, 3, 4}), counts({3}),
                               boxes({100, 100}, {1, 2}), Tensor(), no_sampling());
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1, 0, 1, -1, -1, 0}));
}

TEST(AnchorTargets, PaddedGtRowsAreNotRead) {
  // gt_count 1: g1 and g2 are padding (even invalid boxes there are fine).
  std::vector<double> gts = kGts;
  gts[4] = 99;  // x1 > x2 in a padding row
  auto t = ops::anchor_targets(boxes(kAnchors, {8, 4}), boxes(gts, {1, 3, 4}), counts({1}),
                               boxes({100, 100}, {1, 2}), Tensor(), no_sampling());
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 0, 0, 0, -1, -1, 0}));
}

TEST(AnchorTargets, NoGtMeansBackgroundAndEmptyInputsWork) {
  auto t = ops::anchor_targets(boxes(kAnchors, {8, 4}), boxes({}, {2, 0, 4}), counts({0, 0}),
                               boxes({100, 100, 100, 100}, {2, 2}), Tensor(), no_sampling());
  EXPECT_EQ(t.labels.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0}));
  auto none = ops::anchor_targets(boxes({}, {0, 4}), boxes(kGts, {1, 3, 4}), counts({3}),
                                  boxes({100, 100}, {1, 2}));
  EXPECT_EQ(none.labels.shape(), (Shape{1, 0}));
  EXPECT_EQ(none.bbox_targets.shape(), (Shape{1, 0, 4}));
  auto no_images = ops::anchor_targets(boxes(kAnchors, {8, 4}), boxes({}, {0, 3, 4}), counts({}),
                                       boxes({}, {0, 2}));
  EXPECT_EQ(no_images.labels.shape(), (Shape{0, 8}));
}

TEST(AnchorTargets, LegacyPlusOneWidths) {
  // +1 pixels: a0 (0,0,9,9) and g (0,0,9,19) overlap 100 of 200 -> IoU 0.5 -> foreground, and
  // dy = (9.5 - 4.5) / 10 = 0.5 (centres at x1 + (w - 1) / 2) and dh = log 2 from a0 onto g.
  AnchorTargetOptions o = no_sampling();
  o.legacy_plus_one = true;
  auto t = ops::anchor_targets(boxes({0, 0, 9, 9}, {1, 4}), boxes({0, 0, 9, 19}, {1, 1, 4}),
                               counts({1}), boxes({100, 100}, {1, 2}), Tensor(), o);
  EXPECT_EQ(t.labels.to_vector<int64_t>(), (std::vector<int64_t>{1}));
  std::vector<double> d = t.bbox_targets.to_vector<double>();
  EXPECT_NEAR(d[1], 0.5, 1e-12);
  EXPECT_NEAR(d[3], std::log(2.0), 1e-12);
}

// A dense image: many foreground and background anchors, so sampling has something to cut.
struct Dense {
  Tensor anchors, gts, image_sizes;
};
Dense dense() {
  std::vector<double> a, g;
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 20; ++x) {
      for (double s : {8.0, 16.0}) {
        a.insert(a.end(), {x * 5.0, y * 5.0, x * 5.0 + s, y * 5.0 + s});
      }
    }
  }
  g = {10, 10, 30, 30, 50, 20, 66, 36, 20, 60, 60, 90};
  return {boxes(a, {800, 4}), boxes(g, {1, 3, 4}), boxes({100, 100}, {1, 2})};
}

std::vector<int64_t> sampled(const Dense& d, uint64_t seed, int64_t batch, double fraction) {
  AnchorTargetOptions o;
  o.batch_size = batch;
  o.fg_fraction = fraction;
  o.allowed_border = -1;
  random::Generator gen(seed);
  return ops::anchor_targets(d.anchors, d.gts, counts({3}), d.image_sizes, Tensor(), o, gen)
      .labels.to_vector<int64_t>();
}

TEST(AnchorTargets, SamplingRespectsQuotasAndIsDeterministic) {
  Dense d = dense();
  std::vector<int64_t> all = sampled(d, 1, 0, 0.5);
  int64_t fg_all = 0, bg_all = 0;
  for (int64_t l : all) (l == 1 ? fg_all : bg_all) += l >= 0;
  ASSERT_GT(fg_all, 8);
  ASSERT_GT(bg_all, 100);
  std::vector<int64_t> first = sampled(d, 5, 32, 0.25);
  int64_t fg = 0, bg = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    fg += first[i] == 1;
    bg += first[i] == 0;
    if (first[i] >= 0) {
      EXPECT_EQ(first[i], all[i]) << "a kept anchor changed its label";
    }
  }
  EXPECT_EQ(fg, 8);  // floor(0.25 * 32)
  EXPECT_EQ(bg, 24);
  EXPECT_EQ(sampled(d, 5, 32, 0.25), first);
  EXPECT_NE(sampled(d, 6, 32, 0.25), first);
  // Few foreground anchors: background fills the batch.
  std::vector<int64_t> wide = sampled(d, 5, 400, 0.5);
  fg = bg = 0;
  for (int64_t l : wide) (l == 1 ? fg : bg) += l >= 0;
  EXPECT_EQ(fg, fg_all);
  EXPECT_EQ(bg, 400 - fg_all);
}

TEST(AnchorTargets, EachCallDrawsFreshSamplingPositions) {
  Dense d = dense();
  AnchorTargetOptions o;
  o.batch_size = 32;
  o.allowed_border = -1;
  random::Generator gen(11);
  auto call = [&] {
    return ops::anchor_targets(d.anchors, d.gts, counts({3}), d.image_sizes, Tensor(), o, gen)
        .labels.to_vector<int64_t>();
  };
  const std::vector<int64_t> first = call();
  EXPECT_EQ(gen.offset(), 200u);  // 800 anchors: 800 Philox values, 4 per block
  EXPECT_NE(call(), first);
  // The same position replays the same sample, through the op's seed/offset attributes too.
  random::Generator replay(11);
  EXPECT_EQ(ops::anchor_targets(d.anchors, d.gts, counts({3}), d.image_sizes, Tensor(), o, replay)
                .labels.to_vector<int64_t>(),
            first);
  auto direct =
      dispatch::call("anchor_targets", {d.anchors, d.gts, counts({3}), d.image_sizes, Tensor()},
                     {{"batch_size", int64_t{32}},
                      {"allowed_border", -1.0},
                      {"seed", int64_t{11}},
                      {"offset", int64_t{0}}});
  EXPECT_EQ(direct[0].to_vector<int64_t>(), first);
}

TEST(AnchorTargets, BadArgumentsNameTheOpAndArgument) {
  Tensor a = boxes(kAnchors, {8, 4}), g = boxes(kGts, {1, 3, 4}), s = boxes({100, 100}, {1, 2});
  auto call = [&](const Tensor& anchors, const Tensor& gts, const Tensor& count,
                  const Tensor& sizes, const Tensor& ignore = Tensor()) {
    return error_message([&] { ops::anchor_targets(anchors, gts, count, sizes, ignore); });
  };
  std::vector<double> flipped = kGts;
  flipped[0] = 20;  // x1 > x2
  EXPECT_NE(call(a, boxes(flipped, {1, 3, 4}), counts({3}), s).find("'gt_boxes' box 0"),
            std::string::npos);
  std::vector<double> nan_anchor = kAnchors;
  nan_anchor[5] = std::nan("");
  EXPECT_NE(call(boxes(nan_anchor, {8, 4}), g, counts({3}), s).find("'anchors' box 1"),
            std::string::npos);
  EXPECT_NE(call(a, g, counts({4}), s).find("'gt_count' [0] = 4 is out of range"),
            std::string::npos);
  EXPECT_NE(call(a, g, counts({-1}), s).find("'gt_count'"), std::string::npos);
  EXPECT_NE(call(a, g, counts({3, 3}), s).find("anchor_targets: argument 'gt_count'"),
            std::string::npos);
  EXPECT_NE(call(a, g, counts({3}), boxes({100, 100, 1, 1}, {2, 2})).find("'image_sizes'"),
            std::string::npos);
  EXPECT_NE(call(boxes(kAnchors, {4, 8}), g, counts({3}), s).find("'anchors' must have shape"),
            std::string::npos);
  EXPECT_NE(call(a, boxes(kGts, {3, 4}), counts({3}), s).find("'gt_boxes' must have shape"),
            std::string::npos);
  EXPECT_NE(
      call(a, g, counts({3}), s, Tensor::from_vector<double>({0, 1}, {1, 2}).to(DType::boolean))
          .find("'gt_ignore'"),
      std::string::npos);
  EXPECT_NE(call(a, g.to(DType::f32), counts({3}), s).find("'gt_boxes' must have the boxes' dtype"),
            std::string::npos);
  EXPECT_NE(call(a, g, counts({3}), boxes({100, 0}, {1, 2})).find("'image_sizes' [0][1] = 0"),
            std::string::npos);
  AnchorTargetOptions o;
  o.negative_iou = 0.7;
  EXPECT_NE(error_message([&] {
              ops::anchor_targets(a, g, counts({3}), s, Tensor(), o);
            }).find("negative_iou"),
            std::string::npos);
}

}  // namespace
}  // namespace osprey
