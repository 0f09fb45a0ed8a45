// rpn_proposals: hand-worked decode, clip, size filter, NMS, pre/post top-N, the valid-range
// filter, per-image counts and padding, empty inputs, and one test per bad argument.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/dispatch/registry.h"
#include "ops/rpn_proposals/rpn_proposals.h"
#include "ops/rpn_proposals/rpn_proposals_sizes.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using ops::RpnProposalOptions;
using testing::error_message;
using testing::for_each_cpu_kernel;

Tensor values_of(const std::vector<double>& v, const Shape& shape, DType dtype = DType::f64) {
  return Tensor::from_vector<double>(v, shape).to(dtype);
}
std::vector<double> doubles(const Tensor& t) {
  return t.to(DType::f64).to_vector<double>();
}

// Image 100 x 100, zero deltas, anchors and scores:
//   a0 (0,0,10,10)     0.9   suppressed by a1 (IoU 90/110 = 0.82 > 0.7)
//   a1 (1,0,11,10)     0.95  kept first
//   a2 (20,20,40,40)   0.5   kept third (area 400)
//   a3 (40,40,41,41)   0.99  dropped: 1 px wide (< min_size 3)
//   a4 (90,90,110,110) 0.6   clipped to (90,90,100,100), kept second
const std::vector<double> kAnchors = {0,  0,  10, 10, 1,  0,  11, 10, 20,  20,
                                      40, 40, 40, 40, 41, 41, 90, 90, 110, 110};
const std::vector<double> kScores = {0.9, 0.95, 0.5, 0.99, 0.6};

ops::RpnProposals run(const RpnProposalOptions& o, DType dtype = DType::f64) {
  return ops::rpn_proposals(
      values_of(kScores, {1, 5}, dtype), values_of(std::vector<double>(20, 0.0), {1, 5, 4}, dtype),
      values_of(kAnchors, {5, 4}, dtype), values_of({100, 100}, {1, 2}, dtype), o);
}

TEST(RpnProposals, HandWorkedFilterNmsAndPadding) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for_each_cpu_kernel("rpn_proposals", [&] {
      RpnProposalOptions o;
      o.post_nms_top_n = 5;
      auto p = run(o, dtype);
      EXPECT_EQ(p.count.to_vector<int64_t>(), (std::vector<int64_t>{3}));
      EXPECT_EQ(doubles(p.rois), (std::vector<double>{1,  0,  11, 10, 90, 90, 100, 100, 20, 20,
                                                      40, 40, 0,  0,  0,  0,  0,   0,   0,  0}));
      std::vector<double> s = doubles(p.roi_scores);
      EXPECT_NEAR(s[0], 0.95, 1e-6);
      EXPECT_NEAR(s[1], 0.6, 1e-6);
      EXPECT_NEAR(s[2], 0.5, 1e-6);
      EXPECT_EQ(s[3], 0.0);
    });
  }
}

TEST(RpnProposals, PreAndPostTopN) {
  RpnProposalOptions o;
  o.pre_nms_top_n = 2;  // a1, a0 (a3 was dropped first) -> NMS keeps a1
  EXPECT_EQ(run(o).count.to_vector<int64_t>(), (std::vector<int64_t>{1}));
  EXPECT_EQ(run(o).rois.shape(), (Shape{1, 300, 4}));
  o.pre_nms_top_n = 0;
  o.post_nms_top_n = 2;
  auto p = run(o);
  EXPECT_EQ(p.count.to_vector<int64_t>(), (std::vector<int64_t>{2}));
  EXPECT_EQ(doubles(p.rois), (std::vector<double>{1, 0, 11, 10, 90, 90, 100, 100}));
  o.min_size = 0;  // a3 survives and ranks first
  EXPECT_EQ(doubles(run(o).rois), (std::vector<double>{40, 40, 41, 41, 1, 0, 11, 10}));
}

TEST(RpnProposals, ValidRangeScoresMinusOne) {
  RpnProposalOptions o;
  o.post_nms_top_n = 3;
  o.valid_range_hi = 15;  // a2's area 400 >= 15^2: ranked with score -1, after a4
  auto p = run(o);
  EXPECT_EQ(doubles(p.rois), (std::vector<double>{1, 0, 11, 10, 90, 90, 100, 100, 20, 20, 40, 40}));
  EXPECT_EQ(doubles(p.roi_scores)[2], -1.0);
  o.valid_range_lo = 12;  // now every area-100 box is out of range too: ties keep anchor order
  p = run(o);
  EXPECT_EQ(doubles(p.roi_scores), (std::vector<double>{-1, -1, -1}));
  EXPECT_EQ(doubles(p.rois), (std::vector<double>{0, 0, 10, 10, 20, 20, 40, 40, 90, 90, 100, 100}));
}

TEST(RpnProposals, PerImageValidRanges) {
  // Two copies of the image: the first with range [0, 15) (a2 ranks last with score -1), the
  // second with no upper bound (hi <= 0), as chips of two scales in one batch.
  Tensor s = values_of({0.9, 0.95, 0.5, 0.99, 0.6, 0.9, 0.95, 0.5, 0.99, 0.6}, {2, 5});
  RpnProposalOptions o;
  o.post_nms_top_n = 3;
  auto p = ops::rpn_proposals(s, values_of(std::vector<double>(40, 0.0), {2, 5, 4}),
                              values_of(kAnchors, {5, 4}), values_of({100, 100, 100, 100}, {2, 2}),
                              o, values_of({0, 15, 0, -1}, {2, 2}));
  std::vector<double> scores = doubles(p.roi_scores);
  EXPECT_EQ(scores[2], -1.0);
  EXPECT_NEAR(scores[5], 0.5, 1e-12);
  EXPECT_TRUE(error_message([&] {
                ops::rpn_proposals(s, values_of(std::vector<double>(40, 0.0), {2, 5, 4}),
                                   values_of(kAnchors, {5, 4}),
                                   values_of({100, 100, 100, 100}, {2, 2}), o,
                                   values_of({0, 15}, {1, 2}));
              }).find("argument 'valid_ranges' must have shape") != std::string::npos);
}

TEST(RpnProposals, DecodeAndClipPerImage) {
  // Anchor (0,0,10,10) with dx = 0.1, dw = log 2: centre 6, width 20 -> (-4, 0, 16, 10), clipped
  // to image 0 (100 wide) as (0, 0, 16, 10) and to image 1 (12 wide) as (0, 0, 12, 10).
  Tensor deltas = values_of({0.1, 0, std::log(2.0), 0, 0.1, 0, std::log(2.0), 0}, {2, 1, 4});
  auto p =
      ops::rpn_proposals(values_of({0.5, 0.5}, {2, 1}), deltas, values_of({0, 0, 10, 10}, {1, 4}),
                         values_of({100, 100, 50, 12}, {2, 2}));
  EXPECT_EQ(p.count.to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  std::vector<double> r = doubles(p.rois);
  const std::vector<double> first = {0, 0, 16, 10}, second = {0, 0, 12, 10};
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(r[k], first[k], 1e-12);
    EXPECT_NEAR(r[300 * 4 + k], second[k], 1e-12);
  }
}

TEST(RpnProposals, EmptyInputs) {
  auto none = ops::rpn_proposals(values_of({}, {2, 0}), values_of({}, {2, 0, 4}),
                                 values_of({}, {0, 4}), values_of({10, 10, 10, 10}, {2, 2}));
  EXPECT_EQ(none.count.to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(none.rois.shape(), (Shape{2, 300, 4}));
  auto no_images = ops::rpn_proposals(values_of({}, {0, 5}), values_of({}, {0, 5, 4}),
                                      values_of(kAnchors, {5, 4}), values_of({}, {0, 2}));
  EXPECT_EQ(no_images.rois.shape(), (Shape{0, 300, 4}));
}

TEST(RpnProposals, BadArgumentsNameTheOpAndArgument) {
  Tensor s = values_of(kScores, {1, 5}), d = values_of(std::vector<double>(20, 0.0), {1, 5, 4});
  Tensor a = values_of(kAnchors, {5, 4}), size = values_of({100, 100}, {1, 2});
  auto call = [&](const Tensor& scores, const Tensor& deltas, const Tensor& anchors,
                  const Tensor& sizes, const RpnProposalOptions& o = {}) {
    return error_message([&] { ops::rpn_proposals(scores, deltas, anchors, sizes, o); });
  };
  auto has = [](const std::string& message, const char* part) {
    return message.find(part) != std::string::npos;
  };
  EXPECT_TRUE(has(call(values_of(kScores, {5, 1}), d, a, size),
                  "rpn_proposals: argument 'scores' must have shape"));
  EXPECT_TRUE(has(call(s, values_of(std::vector<double>(16, 0.0), {1, 4, 4}), a, size),
                  "argument 'deltas' must have shape"));
  std::vector<double> nan_anchor = kAnchors;
  nan_anchor[4] = std::nan("");
  EXPECT_TRUE(has(call(s, d, values_of(nan_anchor, {5, 4}), size), "'anchors' box 1"));
  std::vector<double> flipped = kAnchors;
  flipped[0] = 50;
  EXPECT_TRUE(has(call(s, d, values_of(flipped, {5, 4}), size), "'anchors' box 0"));
  EXPECT_TRUE(has(call(s, d, a, values_of({100, 100, 1, 1}, {2, 2})), "'image_sizes' must have"));
  EXPECT_TRUE(has(call(s, d.to(DType::f32), a, size), "'deltas' must have the boxes' dtype"));
  std::vector<double> nan_scores = kScores;
  nan_scores[2] = std::nan("");
  EXPECT_TRUE(has(call(values_of(nan_scores, {1, 5}), d, a, size),
                  "rpn_proposals: argument 'scores' contains NaN (image 0, anchor 2)"));
  std::vector<double> nan_deltas(20, 0.0);
  nan_deltas[13] = std::nan("");
  EXPECT_TRUE(has(call(s, values_of(nan_deltas, {1, 5, 4}), a, size),
                  "argument 'deltas' contains NaN (image 0, anchor 3)"));
  RpnProposalOptions o;
  o.nms_iou = 1.5;
  EXPECT_TRUE(has(call(s, d, a, size, o), "'nms_iou' = 1.5"));
}

// cpu/segmented (the CUDA kernel's algorithm: one segmented bitmask NMS over all images) against
// cpu/reference (per-image nms op) at RPN scale: 4 chips of 384 x 384, 21 anchors x 24 x 24,
// pre-NMS 3000 (segments of 47 tiles, some shorter after the size filter), 300 kept, per-chip
// valid ranges and sizes, both pixel conventions.
TEST(RpnProposals, SegmentedEqualsReferenceAtRpnScale) {
  const int64_t n = 4, map = 24;
  std::vector<double> av;
  for (int64_t y = 0; y < map; ++y) {
    for (int64_t x = 0; x < map; ++x) {
      for (double side : {32.0, 64.0, 112.0, 160.0, 208.0, 256.0, 384.0}) {
        for (double ratio : {0.5, 1.0, 2.0}) {
          const double w = side / std::sqrt(ratio), h = side * std::sqrt(ratio);
          const double cx = 16 * x + 8, cy = 16 * y + 8;
          av.insert(av.end(), {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2});
        }
      }
    }
  }
  const auto a = static_cast<int64_t>(av.size() / 4);
  std::vector<double> sv(n * a), dv(n * a * 4);
  uint64_t state = 12345;
  auto next = [&] {  // a small LCG: the test needs spread values, not quality randomness
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (auto& v : sv) v = next();
  for (auto& v : dv) v = 0.6 * next() - 0.3;
  const Tensor scores = values_of(sv, {n, a}, DType::f32);
  const Tensor deltas = values_of(dv, {n, a, 4}, DType::f32);
  const Tensor anchors = values_of(av, {a, 4}, DType::f32);
  const Tensor sizes = values_of({384, 384, 300, 384, 384, 250, 200, 200}, {n, 2}, DType::f32);
  const Tensor ranges = values_of({0, -1, 32, 160, 0, 96, 64, -1}, {n, 2}, DType::f32);
  for (bool legacy : {false, true}) {
    RpnProposalOptions o;
    o.pre_nms_top_n = 3000;
    o.post_nms_top_n = 300;
    o.legacy_plus_one = legacy;
    auto& registry = dispatch::Registry::instance();
    registry.set_override("rpn_proposals", DeviceType::cpu, "reference");
    const ops::RpnProposals expected =
        ops::rpn_proposals(scores, deltas, anchors, sizes, o, ranges);
    registry.set_override("rpn_proposals", DeviceType::cpu, "segmented");
    const ops::RpnProposals actual = ops::rpn_proposals(scores, deltas, anchors, sizes, o, ranges);
    registry.clear_override("rpn_proposals", DeviceType::cpu);
    EXPECT_EQ(actual.count.to_vector<int64_t>(), expected.count.to_vector<int64_t>());
    EXPECT_EQ(doubles(actual.rois), doubles(expected.rois));
    EXPECT_EQ(doubles(actual.roi_scores), doubles(expected.roi_scores));
    EXPECT_GT(expected.count.to_vector<int64_t>()[0], 100);  // NMS had work to do
  }
}

// The device value check (bad_input_values, run by the CUDA kernel instead of validate's host
// copies) flags exactly what the host checks reject.
TEST(RpnProposals, DeviceValueCheckAgreesWithHostChecks) {
  namespace math = ops::rpn_proposal_math;
  const double inf = INFINITY, nan = NAN;
  const std::vector<std::vector<double>> anchors = {{0, 0, 10, 10}, {5, 5, 5, 5},   {10, 0, 9, 10},
                                                    {0, 10, 10, 9}, {nan, 0, 1, 1}, {0, 0, inf, 1},
                                                    {-inf, 0, 1, 1}};
  for (const auto& b : anchors) {
    const bool host_bad = error_message([&] {
                            ops::rpn_proposals_check_values(values_of(b, {1, 4}),
                                                            values_of({8, 8}, {1, 2}), Tensor());
                          }) != "(no error)";
    EXPECT_EQ(math::bad_input_values<double>(b.data(), nullptr, nullptr), host_bad) << b[0];
  }
  const std::vector<std::vector<double>> sizes = {{8, 8}, {0, 8}, {8, -1}, {nan, 8}, {8, inf}};
  for (const auto& sz : sizes) {
    const bool host_bad = error_message([&] {
                            ops::rpn_proposals_check_values(values_of({0, 0, 1, 1}, {1, 4}),
                                                            values_of(sz, {1, 2}), Tensor());
                          }) != "(no error)";
    EXPECT_EQ(math::bad_input_values<double>(nullptr, sz.data(), nullptr), host_bad) << sz[0];
  }
  const std::vector<std::vector<double>> ranges = {{0, -1}, {nan, 3}, {0, inf}, {2, 40}};
  for (const auto& r : ranges) {
    const bool host_bad =
        error_message([&] {
          ops::rpn_proposals_check_values(values_of({0, 0, 1, 1}, {1, 4}),
                                          values_of({8, 8}, {1, 2}), values_of(r, {1, 2}));
        }) != "(no error)";
    EXPECT_EQ(math::bad_input_values<double>(nullptr, nullptr, r.data()), host_bad) << r[0];
  }
}

}  // namespace
}  // namespace osprey
