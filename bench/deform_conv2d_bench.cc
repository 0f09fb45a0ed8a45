// DCNv2 forward + backward (deform_conv2d with offsets and a mask, gradients for input, offset,
// mask, weight and bias through autograd) against our dense conv2d forward + backward (input,
// weight, bias) on the same f32 input, in the same run, on the CPU kernels the dispatcher picks.
// Default shape: 8 × 256 × 32 × 32 input, 3 × 3 kernel, padding 1, 256 output channels; offsets
// uniform in [-2, 2], mask in [0, 1]. The two alternate, several rounds each, so machine load
// drifts affect both; the summary prints deform/dense of the best and of the median round
// (issue goal: within 2×, i.e. <= 2.0).
// The deformable kernel alternates OpenMP loops (sampling) with OpenBLAS gemms (pthreads); with
// libgomp's default wait policy its idle workers spin after each loop and take a core from the
// next gemm, which shows on a busy machine: compare with OMP_WAIT_POLICY=passive.
//
//   ./build/bench/deform_conv2d_bench [--batch=N] [--channels=C] [--size=HW] [--rounds=R]
//                                     [google benchmark flags]
#include <benchmark/benchmark.h>
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
#include "ops/conv2d/conv2d.h"
#include "ops/deform_conv2d/deform_conv2d.h"

namespace {

using osprey::Tensor;

struct Operands {
  Tensor x, w, b, offset, mask, grad;
  int64_t n = 0, c = 0, hw = 0;
};

Operands& operands() {
  static Operands ops;
  return ops;
}

void clear_grads(const Operands& o) {
  for (const Tensor* t : {&o.x, &o.w, &o.b, &o.offset, &o.mask}) t->zero_grad();
}

void bm_dense(benchmark::State& state) {
  Operands& o = operands();
  std::string keys;
  for (auto _ : state) {
    clear_grads(o);
    Tensor y = osprey::ops::conv2d(o.x, o.w, o.b, {1}, {1});
    keys = osprey::dispatch::last_kernel_key();
    y.backward(o.grad);
    benchmark::DoNotOptimize(o.x.grad().raw_data());
  }
  state.SetLabel(keys);
}

void bm_deform(benchmark::State& state) {
  Operands& o = operands();
  std::string keys;
  for (auto _ : state) {
    clear_grads(o);
    Tensor y = osprey::ops::deform_conv2d(o.x, o.offset, o.w, o.b, o.mask, {1}, {1});
    keys = osprey::dispatch::last_kernel_key();
    y.backward(o.grad);
    benchmark::DoNotOptimize(o.offset.grad().raw_data());
  }
  state.SetLabel(keys);
}

}  // namespace

using osprey::bench::median;
using osprey::bench::RecordingReporter;
using osprey::bench::take_flag;

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  const int64_t n = take_flag(argc, argv, "--batch", 8);
  const int64_t c = take_flag(argc, argv, "--channels", 256);
  const int64_t hw = take_flag(argc, argv, "--size", 32);
  const int64_t rounds = take_flag(argc, argv, "--rounds", 3);
  {
    osprey::autograd::NoGradGuard no_grad;
    osprey::ops::CaseRandom rng(1);
    Operands& o = operands();
    o.n = n;
    o.c = c;
    o.hw = hw;
    const auto f32 = osprey::DType::f32;
    o.x = rng.uniform({n, c, hw, hw}, f32);
    o.w = rng.uniform({c, c, 3, 3}, f32, -0.05, 0.05);
    o.b = rng.uniform({c}, f32);
    o.offset = rng.uniform({n, 2 * 9, hw, hw}, f32, -2.0, 2.0);
    o.mask = rng.uniform({n, 9, hw, hw}, f32, 0.0, 1.0);
    o.grad = rng.uniform({n, c, hw, hw}, f32);
  }
  for (Tensor* t :
       {&operands().x, &operands().w, &operands().b, &operands().offset, &operands().mask})
    t->set_requires_grad();
  for (int64_t r = 0; r < rounds; ++r) {
    std::string suffix = fmt::format("/{}x{}x{}x{}/round{}", n, c, hw, hw, r);
    benchmark::RegisterBenchmark(("dense_conv2d_fwd_bwd" + suffix).c_str(), bm_dense)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("dcnv2_fwd_bwd" + suffix).c_str(), bm_deform)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto& deform_t = reporter.times("dcnv2_fwd_bwd");
  const auto& dense_t = reporter.times("dense_conv2d_fwd_bwd");
  if (deform_t.empty() || dense_t.empty()) return 0;
  const double best_deform = *std::min_element(deform_t.begin(), deform_t.end());
  const double best_dense = *std::min_element(dense_t.begin(), dense_t.end());
  std::printf(
      "\nf32 %lldx%lldx%lldx%lld, 3x3, %lld out, fwd+bwd, %zu rounds: dcnv2 best %.1f ms, dense "
      "conv2d best %.1f ms\n",
      static_cast<long long>(n), static_cast<long long>(c), static_cast<long long>(hw),
      static_cast<long long>(hw), static_cast<long long>(c), deform_t.size(), best_deform,
      best_dense);
  std::printf("ratio dcnv2/dense: best %.3f, median %.3f (goal <= 2.0)\n", best_deform / best_dense,
              median(deform_t) / median(dense_t));
  benchmark::Shutdown();
  return 0;
}
