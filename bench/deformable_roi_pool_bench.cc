// deformable_roi_pool forward and backward on SNIPER's RCNN head shape — 2 chips x 256 channels
// x 32 x 32 (stride 16 on 512 x 512 chips), 128 RoIs, 7 x 7 bins, 4 x 4 samples, random offsets —
// on the cpu/parallel kernels against the cpu/reference ones, in the same run, alternating round
// by round so that load drifts hit both; prints reference / parallel of the median rounds.
//
//   ./build/bench/deformable_roi_pool_bench [--rois=K] [--channels=C] [google benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>

#include "bench/bench_support.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/thread_environment.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/deformable_roi_pool/deformable_roi_pool.h"

namespace {

using osprey::Tensor;

struct Operands {
  Tensor x, rois, offset, grad;
};

Operands& operands() {
  static Operands o;
  return o;
}

void make_operands(int64_t rois, int64_t channels) {
  osprey::ops::CaseRandom rng(1);
  Operands& o = operands();
  o.x = rng.uniform({2, channels, 32, 32}, osprey::DType::f32, -1, 1);
  std::mt19937 engine(2);
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<float> boxes;
  for (int64_t k = 0; k < rois; ++k) {
    const float x1 = unit(engine) * 400, y1 = unit(engine) * 400;
    boxes.insert(boxes.end(), {static_cast<float>(k % 2), x1, y1, x1 + 8 + unit(engine) * 200,
                               y1 + 8 + unit(engine) * 200});
  }
  o.rois = Tensor::from_vector<float>(boxes, {rois, 5});
  o.offset = rng.uniform({rois, 2, 7, 7}, osprey::DType::f32, -0.5, 0.5);
  o.grad = rng.uniform({rois, channels, 7, 7}, osprey::DType::f32, -1, 1);
}

void use_kernels(const char* impl) {
  auto& registry = osprey::dispatch::Registry::instance();
  registry.set_override("deformable_roi_pool", osprey::DeviceType::cpu, impl);
  registry.set_override("deformable_roi_pool_backward", osprey::DeviceType::cpu, impl);
}

void run(benchmark::State& state, const char* impl, bool backward) {
  osprey::autograd::NoGradGuard no_grad;
  use_kernels(impl);
  const Operands& o = operands();
  for (auto _ : state) {
    if (backward) {
      auto g = osprey::ops::deformable_roi_pool_backward(o.grad, o.x, o.rois, o.offset);
      benchmark::DoNotOptimize(g.input.raw_data());
    } else {
      Tensor y = osprey::ops::deformable_roi_pool(o.x, o.rois, o.offset);
      benchmark::DoNotOptimize(y.raw_data());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  const int64_t rois = osprey::bench::take_flag(argc, argv, "--rois", int64_t{128});
  const int64_t channels = osprey::bench::take_flag(argc, argv, "--channels", int64_t{256});
  const int64_t rounds = osprey::bench::take_flag(argc, argv, "--rounds", int64_t{5});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  make_operands(rois, channels);
  for (int64_t r = 0; r < rounds; ++r) {
    for (const char* impl : {"reference", "parallel"}) {
      for (bool backward : {false, true}) {
        const std::string name = std::string(backward ? "backward_" : "forward_") + impl;
        benchmark::RegisterBenchmark(name.c_str(),
                                     [=](benchmark::State& s) { run(s, impl, backward); })
            ->Iterations(1)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  osprey::bench::RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf("\n%lld RoIs x %lld channels, 7 x 7 bins, 4 x 4 samples (median of %lld rounds)\n",
              static_cast<long long>(rois), static_cast<long long>(channels),
              static_cast<long long>(rounds));
  for (const char* pass : {"forward", "backward"}) {
    const double ref = osprey::bench::median(reporter.times(std::string(pass) + "_reference"));
    const double par = osprey::bench::median(reporter.times(std::string(pass) + "_parallel"));
    std::printf("%-9s reference %8.1f ms  parallel %8.1f ms  reference/parallel %.2f\n", pass, ref,
                par, par > 0 ? ref / par : 0.0);
  }
  return 0;
}
