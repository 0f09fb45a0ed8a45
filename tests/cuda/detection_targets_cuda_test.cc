// CUDA anchor_targets, proposal_targets and rpn_proposals against their CPU references on SNIPER-
// sized inputs the case lists do not reach (thousands of anchors, 300 RoIs, sampling), and the
// sampling contract: the same seed samples the same anchors / RoIs on both devices and on repeated
// GPU calls. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "framework/dispatch/registry.h"
#include "framework/random/generator.h"
#include "ops/anchor_targets/anchor_targets.h"
#include "ops/proposal_targets/proposal_targets.h"
#include "ops/rpn_proposals/rpn_proposals.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

constexpr testing::Tolerance kExact{0.0, 0.0};

Tensor on_gpu(const Tensor& t) {
  return t.defined() ? t.to(Device::cuda()) : t;
}

// SNIPER-like anchors: 21 sizes at every cell of a map × map grid of stride 16.
Tensor anchors(int64_t map) {
  std::vector<double> v;
  for (int64_t y = 0; y < map; ++y) {
    for (int64_t x = 0; x < map; ++x) {
      for (double s : {32.0, 64.0, 112.0, 160.0, 208.0, 256.0, 384.0}) {
        for (double ratio : {0.5, 1.0, 2.0}) {
          const double w = s / std::sqrt(ratio), h = s * std::sqrt(ratio);
          const double cx = 16 * x + 8, cy = 16 * y + 8;
          v.insert(v.end(), {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2});
        }
      }
    }
  }
  return Tensor::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}).to(DType::f32);
}

Tensor random_boxes(std::mt19937_64& rng, int64_t n, int64_t m, double extent) {
  std::uniform_real_distribution<double> corner(0, extent * 0.8), side(12, extent * 0.4);
  std::vector<double> v;
  for (int64_t i = 0; i < n * m; ++i) {
    const double x = corner(rng), y = corner(rng);
    v.insert(v.end(), {x, y, x + side(rng), y + side(rng)});
  }
  return Tensor::from_vector<double>(v, {n, m, 4}).to(DType::f32);
}

Tensor ints(const std::vector<int64_t>& v) {
  return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

Tensor image_sizes(int64_t n, double side) {
  return Tensor::from_vector<double>(std::vector<double>(2 * n, side), {n, 2}).to(DType::f32);
}

void expect_same(const Tensor& gpu, const Tensor& cpu, testing::Tolerance tol, const char* what) {
  const std::string message = testing::compare(gpu.cpu(), cpu, tol);
  EXPECT_TRUE(message.empty()) << what << ": " << message;
}

TEST(DetectionTargetsCuda, AnchorTargetsMatchCpuAndSampleTheSameAnchors) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(3);
  const int64_t n = 4;
  Tensor a = anchors(32);  // 21504 anchors, a 512 x 512 chip
  Tensor gts = random_boxes(rng, n, 12, 512);
  Tensor count = ints({12, 5, 0, 9});
  Tensor ignore = Tensor::from_vector<double>(std::vector<double>(n * 12, 0.0), {n, 12});
  ignore = ignore.to(DType::boolean);
  Tensor sizes = image_sizes(n, 512);
  ops::AnchorTargetOptions o;  // SNIPER defaults: 256 anchors, <= 50% foreground
  for (int seed : {1, 2}) {
    random::Generator cpu_gen(seed), gpu_gen(seed), again_gen(seed);
    auto cpu = ops::anchor_targets(a, gts, count, sizes, ignore, o, cpu_gen);
    auto gpu = ops::anchor_targets(on_gpu(a), on_gpu(gts), on_gpu(count), on_gpu(sizes),
                                   on_gpu(ignore), o, gpu_gen);
    auto again = ops::anchor_targets(on_gpu(a), on_gpu(gts), on_gpu(count), on_gpu(sizes),
                                     on_gpu(ignore), o, again_gen);
    expect_same(gpu.labels, cpu.labels, kExact, "labels");
    expect_same(again.labels, gpu.labels, kExact, "labels of a second GPU call");
    expect_same(gpu.bbox_targets, cpu.bbox_targets, testing::tolerance_for(DType::f32),
                "bbox_targets");
    expect_same(gpu.bbox_weights, cpu.bbox_weights, kExact, "bbox_weights");
  }
}

TEST(DetectionTargetsCuda, ProposalTargetsMatchCpuAndSampleTheSameRois) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(5);
  const int64_t n = 3;
  Tensor rois = random_boxes(rng, n, 300, 512);
  Tensor gts = random_boxes(rng, n, 20, 512);
  Tensor classes = Tensor::from_vector<int64_t>(std::vector<int64_t>(n * 20, 7), {n, 20});
  Tensor group = Tensor::from_vector<double>(std::vector<double>(n * 20, 0.0), {n, 20});
  group = group.to(DType::boolean);
  for (int sampled : {0, 1}) {
    ops::ProposalTargetOptions o;
    o.batch_size = sampled ? 128 : -1;
    o.soft_sampling = !sampled;
    random::Generator cpu_gen(9), gpu_gen(9);
    auto cpu = ops::proposal_targets(rois, ints({300, 250, 17}), gts, classes, ints({20, 3, 0}),
                                     group, o, cpu_gen);
    auto gpu =
        ops::proposal_targets(on_gpu(rois), on_gpu(ints({300, 250, 17})), on_gpu(gts),
                              on_gpu(classes), on_gpu(ints({20, 3, 0})), on_gpu(group), o, gpu_gen);
    expect_same(gpu.rois, cpu.rois, kExact, "rois");
    expect_same(gpu.labels, cpu.labels, kExact, "labels");
    expect_same(gpu.count, cpu.count, kExact, "count");
    expect_same(gpu.label_weights, cpu.label_weights, testing::tolerance_for(DType::f32),
                "label_weights");
    expect_same(gpu.bbox_targets, cpu.bbox_targets, testing::tolerance_for(DType::f32),
                "bbox_targets");
    expect_same(gpu.bbox_weights, cpu.bbox_weights, kExact, "bbox_weights");
  }
}

TEST(DetectionTargetsCuda, RpnProposalsMatchCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(7);
  const int64_t n = 2;
  Tensor a = anchors(32);
  const int64_t count = a.size(0);
  std::uniform_real_distribution<double> unit(0, 1), delta(-0.2, 0.2);
  std::vector<double> s(n * count), d(n * count * 4);
  for (auto& v : s) v = unit(rng);
  for (auto& v : d) v = delta(rng);
  Tensor scores = Tensor::from_vector<double>(s, {n, count}).to(DType::f32);
  Tensor deltas = Tensor::from_vector<double>(d, {n, count, 4}).to(DType::f32);
  Tensor sizes = image_sizes(n, 512);
  for (int64_t pre : {int64_t{6000}, int64_t{0}}) {
    ops::RpnProposalOptions o;
    o.pre_nms_top_n = pre;
    auto cpu = ops::rpn_proposals(scores, deltas, a, sizes, o);
    auto gpu = ops::rpn_proposals(on_gpu(scores), on_gpu(deltas), on_gpu(a), on_gpu(sizes), o);
    expect_same(gpu.count, cpu.count, kExact, "count");
    expect_same(gpu.rois, cpu.rois, testing::tolerance_for(DType::f32), "rois");
    expect_same(gpu.roi_scores, cpu.roi_scores, kExact, "roi_scores");
  }
}

// The batch: 16 chips of 512 x 512, 21504 anchors each, pre-NMS 6000, 300 kept, through
// the segmented NMS (all images in one mask and one scan launch). Chips of different sizes and
// valid ranges give segments of different lengths; cpu/segmented runs the same algorithm on the
// host and cpu/reference the per-image nms op: the GPU must equal both.
TEST(DetectionTargetsCuda, RpnProposalsSixteenChipsSegmentedMatchCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(11);
  const int64_t n = 16;
  Tensor a = anchors(32);
  const int64_t count = a.size(0);
  std::uniform_real_distribution<double> unit(0, 1), delta(-0.3, 0.3);
  std::vector<double> s(n * count), d(n * count * 4), sz(2 * n), ranges(2 * n);
  for (auto& v : s) v = unit(rng);
  for (auto& v : d) v = delta(rng);
  for (int64_t b = 0; b < n; ++b) {
    sz[2 * b] = 512 - 20 * b, sz[2 * b + 1] = 512 - 7 * b;
    ranges[2 * b] = b % 3 == 0 ? 0 : 16 * b, ranges[2 * b + 1] = b % 4 == 0 ? -1 : 64 + 24 * b;
  }
  Tensor scores = Tensor::from_vector<double>(s, {n, count}).to(DType::f32);
  Tensor deltas = Tensor::from_vector<double>(d, {n, count, 4}).to(DType::f32);
  Tensor sizes = Tensor::from_vector<double>(sz, {n, 2}).to(DType::f32);
  Tensor valid = Tensor::from_vector<double>(ranges, {n, 2}).to(DType::f32);
  for (bool legacy : {false, true}) {
    ops::RpnProposalOptions o;
    o.pre_nms_top_n = 6000;
    o.post_nms_top_n = 300;
    o.legacy_plus_one = legacy;
    auto cpu = ops::rpn_proposals(scores, deltas, a, sizes, o, valid);
    auto& registry = dispatch::Registry::instance();
    registry.set_override("rpn_proposals", DeviceType::cpu, "segmented");
    auto segmented = ops::rpn_proposals(scores, deltas, a, sizes, o, valid);
    registry.clear_override("rpn_proposals", DeviceType::cpu);
    expect_same(segmented.count, cpu.count, kExact, "cpu/segmented count");
    expect_same(segmented.rois, cpu.rois, kExact, "cpu/segmented rois");
    auto gpu = ops::rpn_proposals(on_gpu(scores), on_gpu(deltas), on_gpu(a), on_gpu(sizes), o,
                                  on_gpu(valid));
    EXPECT_TRUE(gpu.count.device().is_cuda());
    expect_same(gpu.count, cpu.count, kExact, "count");
    expect_same(gpu.rois, cpu.rois, testing::tolerance_for(DType::f32), "rois");
    expect_same(gpu.roi_scores, cpu.roi_scores, kExact, "roi_scores");
  }
}

// A NaN score is still an argument error of the CUDA call, located as on the CPU (the flag word
// is the call's one read-back; the location is found on the error path only).
TEST(DetectionTargetsCuda, RpnProposalsNanScoreIsAnArgumentError) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor a = anchors(2);
  const int64_t count = a.size(0);
  std::vector<double> s(2 * count, 0.5);
  s[count + 5] = std::nan("");
  Tensor scores = Tensor::from_vector<double>(s, {2, count}).to(DType::f32);
  Tensor deltas = Tensor::from_vector<double>(std::vector<double>(8 * count, 0.0), {2, count, 4})
                      .to(DType::f32);
  try {
    ops::rpn_proposals(on_gpu(scores), on_gpu(deltas), on_gpu(a), on_gpu(image_sizes(2, 64)));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'scores' contains NaN (image 1, anchor 5)"),
              std::string::npos)
        << e.what();
  }
}

// Bad anchors, image sizes and valid ranges of CUDA inputs are found on the device (no host copy in
// validate) and reported with the CPU call's message.
TEST(DetectionTargetsCuda, RpnProposalsBadValuesGiveTheCpuErrors) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor a = anchors(2);
  const int64_t count = a.size(0);
  Tensor scores =
      Tensor::from_vector<double>(std::vector<double>(2 * count, 0.5), {2, count}).to(DType::f32);
  Tensor deltas = Tensor::from_vector<double>(std::vector<double>(8 * count, 0.0), {2, count, 4})
                      .to(DType::f32);
  auto message = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const Error& e) {
      const std::string what = e.what();
      return what.substr(std::min(what.size(), what.find("rpn_proposals: ")));
    }
    return std::string("no error");
  };
  std::vector<float> av = a.to_vector<float>();
  std::vector<float> flipped = av, inf_anchor = av;
  flipped[4 * 30 + 2] = flipped[4 * 30] - 5;
  inf_anchor[4 * 17 + 1] = INFINITY;
  const Tensor sizes = image_sizes(2, 64);
  const Tensor bad_size = Tensor::from_vector<float>({64, 64, 64, -3}, {2, 2});
  const Tensor ranges = Tensor::from_vector<float>({0, -1, NAN, 40}, {2, 2});
  struct Case {
    Tensor anchors, sizes, ranges;
  };
  const std::vector<Case> cases = {
      {Tensor::from_vector<float>(flipped, a.shape()), sizes, Tensor()},
      {Tensor::from_vector<float>(inf_anchor, a.shape()), sizes, Tensor()},
      {a, bad_size, Tensor()},
      {a, sizes, ranges}};
  for (const Case& c : cases) {
    const std::string cpu =
        message([&] { ops::rpn_proposals(scores, deltas, c.anchors, c.sizes, {}, c.ranges); });
    ASSERT_NE(cpu, "no error");
    EXPECT_EQ(message([&] {
                ops::rpn_proposals(on_gpu(scores), on_gpu(deltas), on_gpu(c.anchors),
                                   on_gpu(c.sizes), {}, on_gpu(c.ranges));
              }),
              cpu);
  }
}

}  // namespace
}  // namespace osprey
