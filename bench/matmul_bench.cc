// f32 2048^3 matrix product: ops::matmul through the dispatcher (selecting matmul/cpu/openblas)
// against cblas_sgemm called directly on the same buffers, in the same run. The two alternate,
// several rounds each, so machine load drifts affect both; the summary prints the ratio
// osprey time / direct time of the best and of the median round (target: within 5%, i.e. <= 1.05).
//
//   ./build/bench/matmul_bench [--size=N] [--rounds=R] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/thread_environment.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/matmul/matmul.h"

namespace {

using osprey::Tensor;

struct Operands {
  Tensor a, b, c;
  int64_t n = 0;
};

Operands& operands() {
  static Operands ops;
  return ops;
}

void bm_osprey(benchmark::State& state) {
  Operands& o = operands();
  for (auto _ : state) {
    Tensor c = osprey::ops::matmul(o.a, o.b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.SetLabel(osprey::dispatch::last_kernel_key());
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * o.n * o.n * o.n * state.iterations(), benchmark::Counter::kIsRate);
}

void bm_direct(benchmark::State& state) {
  Operands& o = operands();
  const int n = static_cast<int>(o.n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, o.a.data<float>(), n,
                o.b.data<float>(), n, 0.0f, o.c.data<float>(), n);
    benchmark::DoNotOptimize(o.c.raw_data());
  }
  state.SetLabel("cblas_sgemm");
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * o.n * o.n * o.n * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

using osprey::bench::median;
using osprey::bench::RecordingReporter;
using osprey::bench::take_flag;

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  const int64_t n = take_flag(argc, argv, "--size", 2048);
  const int64_t rounds = take_flag(argc, argv, "--rounds", 5);
  {
    osprey::autograd::NoGradGuard no_grad;
    osprey::ops::CaseRandom rng(1);
    Operands& o = operands();
    o.n = n;
    o.a = rng.uniform({n, n}, osprey::DType::f32);
    o.b = rng.uniform({n, n}, osprey::DType::f32);
    o.c = Tensor::empty({n, n}, osprey::DType::f32);
  }
  for (int64_t r = 0; r < rounds; ++r) {
    std::string suffix = fmt::format("/{}/round{}", n, r);
    benchmark::RegisterBenchmark(("direct_cblas_sgemm" + suffix).c_str(), bm_direct)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("osprey_matmul" + suffix).c_str(), bm_osprey)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto& osprey_t = reporter.times("osprey_matmul");
  const auto& direct_t = reporter.times("direct_cblas_sgemm");
  if (osprey_t.empty() || direct_t.empty()) return 0;
  double best_o = *std::min_element(osprey_t.begin(), osprey_t.end());
  double best_d = *std::min_element(direct_t.begin(), direct_t.end());
  std::printf("\nf32 %lldx%lldx%lld matmul, %zu rounds: osprey best %.2f ms, direct best %.2f ms\n",
              static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n),
              osprey_t.size(), best_o, best_d);
  std::printf("ratio osprey/direct: best %.4f, median %.4f (target <= 1.05)\n", best_o / best_d,
              median(osprey_t) / median(direct_t));
  benchmark::Shutdown();
  return 0;
}
