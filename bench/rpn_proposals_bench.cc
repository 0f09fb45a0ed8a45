// The SNIPER target path on one training batch: 16 chips of 512 × 512, 21 anchors at each of 32 ×
// 32 positions (21504 anchors per chip, SNIPER's scales 2..24 × ratios 0.5, 1, 2 at stride 16).
//   rpn_proposals/<device>/pre6000   decode + filter + pre-NMS top 6000 + NMS 0.7 + top 300
//   rpn_proposals/<device>/pre0      the same over every anchor (SNIPER's multi_proposal_target)
//   anchor_targets/<device>          RPN labels + sampling (12 gts per chip)
//   proposal_targets/<device>        300 RoIs + 12 gts per chip, SNIPER settings (use all)
// Scores are uniform in [0, 1), deltas uniform in [-0.2, 0.2] (fixed seed). Wall time per call,
// the device synchronised after each call; CUDA cases run only when a GPU is present (issue
// goal: rpn_proposals/cuda/pre6000 <= 2 ms on an H100).
//
//   ./build/bench/rpn_proposals_bench [--chips=16] [google benchmark flags]
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "bench/bench_support.h"
#include "framework/core/backend.h"
#include "framework/core/thread_environment.h"
#include "framework/dispatch/registry.h"
#include "framework/random/generator.h"
#include "ops/anchor_targets/anchor_targets.h"
#include "ops/proposal_targets/proposal_targets.h"
#include "ops/rpn_proposals/rpn_proposals.h"

namespace {

using osprey::Device;
using osprey::DType;
using osprey::Tensor;

struct Batch {
  Tensor anchors, scores, deltas, sizes, gts, gt_count, gt_classes, rois, roi_count;
};

Tensor sniper_anchors() {
  std::vector<double> v;
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      for (double scale : {2.0, 4.0, 7.0, 10.0, 13.0, 16.0, 24.0}) {
        for (double ratio : {0.5, 1.0, 2.0}) {
          const double w = 16 * scale / std::sqrt(ratio), h = 16 * scale * std::sqrt(ratio);
          const double cx = 16 * x + 7.5, cy = 16 * y + 7.5;
          v.insert(v.end(), {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2});
        }
      }
    }
  }
  return Tensor::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}).to(DType::f32);
}

Tensor uniform(std::mt19937_64& rng, const osprey::Shape& shape, double lo, double hi) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return Tensor::from_vector<double>(v, shape).to(DType::f32);
}

Tensor boxes(std::mt19937_64& rng, int64_t n, int64_t m) {
  std::uniform_real_distribution<double> corner(0, 400), side(16, 200);
  std::vector<double> v;
  for (int64_t i = 0; i < n * m; ++i) {
    const double x = corner(rng), y = corner(rng);
    v.insert(v.end(), {x, y, std::min(x + side(rng), 511.0), std::min(y + side(rng), 511.0)});
  }
  return Tensor::from_vector<double>(v, {n, m, 4}).to(DType::f32);
}

Batch make_batch(int64_t chips, Device device) {
  std::mt19937_64 rng(2026);
  Batch b;
  b.anchors = sniper_anchors();
  const int64_t a = b.anchors.size(0);
  b.scores = uniform(rng, {chips, a}, 0, 1);
  b.deltas = uniform(rng, {chips, a, 4}, -0.2, 0.2);
  b.sizes =
      Tensor::from_vector<double>(std::vector<double>(2 * chips, 512.0), {chips, 2}).to(DType::f32);
  b.gts = boxes(rng, chips, 12);
  b.gt_count = Tensor::from_vector<int64_t>(std::vector<int64_t>(chips, 12), {chips});
  b.gt_classes = Tensor::from_vector<int64_t>(std::vector<int64_t>(chips * 12, 1), {chips, 12});
  b.rois = boxes(rng, chips, 300);
  b.roi_count = Tensor::from_vector<int64_t>(std::vector<int64_t>(chips, 300), {chips});
  for (Tensor* t : {&b.anchors, &b.scores, &b.deltas, &b.sizes, &b.gts, &b.gt_count, &b.gt_classes,
                    &b.rois, &b.roi_count}) {
    *t = t->to(device);
  }
  return b;
}

int64_t g_chips = 16;

// Times body() per iteration, with the device synchronised before the clock stops.
template <typename Body>
void timed(benchmark::State& state, Device device, Body body) {
  body();  // warm-up (allocator, first launches)
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    body();
    if (device.is_cuda()) osprey::backend(osprey::DeviceType::cuda).synchronize(device);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetLabel(osprey::dispatch::last_kernel_key());
}

void bm_rpn_proposals(benchmark::State& state, Device device, int64_t pre) {
  Batch b = make_batch(g_chips, device);
  osprey::ops::RpnProposalOptions o;
  o.pre_nms_top_n = pre;
  timed(state, device, [&] {
    auto p = osprey::ops::rpn_proposals(b.scores, b.deltas, b.anchors, b.sizes, o);
    benchmark::DoNotOptimize(p.rois.raw_data());
  });
}

void bm_anchor_targets(benchmark::State& state, Device device) {
  Batch b = make_batch(g_chips, device);
  osprey::random::Generator gen(1);
  timed(state, device, [&] {
    auto t = osprey::ops::anchor_targets(b.anchors, b.gts, b.gt_count, b.sizes, Tensor(), {}, gen);
    benchmark::DoNotOptimize(t.labels.raw_data());
  });
}

void bm_proposal_targets(benchmark::State& state, Device device) {
  Batch b = make_batch(g_chips, device);
  osprey::random::Generator gen(1);
  timed(state, device, [&] {
    auto t = osprey::ops::proposal_targets(b.rois, b.roi_count, b.gts, b.gt_classes, b.gt_count,
                                           Tensor(), {}, gen);
    benchmark::DoNotOptimize(t.labels.raw_data());
  });
}

void register_device(Device device, const char* name, int cpu_all_iterations) {
  using benchmark::RegisterBenchmark;
  const std::string d = name;
  RegisterBenchmark(("rpn_proposals/" + d + "/pre6000").c_str(),
                    [device](benchmark::State& s) { bm_rpn_proposals(s, device, 6000); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark(("rpn_proposals/" + d + "/pre0").c_str(),
                    [device](benchmark::State& s) { bm_rpn_proposals(s, device, 0); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(cpu_all_iterations);
  RegisterBenchmark(("anchor_targets/" + d).c_str(),
                    [device](benchmark::State& s) { bm_anchor_targets(s, device); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark(("proposal_targets/" + d).c_str(),
                    [device](benchmark::State& s) { bm_proposal_targets(s, device); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  g_chips = osprey::bench::take_flag(argc, argv, "--chips", int64_t{16});
  const bool gpu = osprey::cuda_available();
  const std::string devices =
      osprey::bench::take_flag(argc, argv, "--devices", std::string(gpu ? "cpu,cuda" : "cpu"));
  if (devices.find("cpu") != std::string::npos) register_device(Device::cpu(), "cpu", 2);
  if (gpu && devices.find("cuda") != std::string::npos) {
    register_device(Device::cuda(), "cuda", 10);
  }
  if (!gpu) std::printf("rpn_proposals_bench: no CUDA device present, CPU cases only\n");
  benchmark::Initialize(&argc, argv);
  std::printf("rpn_proposals_bench summary: %lld chips, wall ms per call (device synchronised)\n",
              static_cast<long long>(g_chips));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
