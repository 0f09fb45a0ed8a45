// Fast CPU kernels of sum, max, softmax, log_softmax and topk against their references, in the
// same run. Shapes are batches of rows (a [4096, 1000] logits matrix) and column reductions (a
// bias gradient over 4096 rows). Run: ./build/bench/reductions_bench
// Measured 2026-11-27 on the 2-core dev VM with OMP_NUM_THREADS=1 (fast vs reference): sum rows
// 4x, sum columns 20x, sum NCHW over (N, H, W) 50x, max rows 1.5x, max columns 9x, softmax 1.8x,
// log_softmax 1.1x, topk 1x (topk's win is the OpenMP split over rows). With more threads the fast
// kernels scale; the references are serial.
#include <benchmark/benchmark.h>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"

namespace osprey {
namespace {

void run(benchmark::State& state, const char* op, const char* impl, const Shape& shape,
         dispatch::Attrs attrs) {
  ops::CaseRandom rng(1);
  Tensor x = rng.uniform(shape, DType::f32);
  auto& r = dispatch::Registry::instance();
  r.set_override(op, DeviceType::cpu, impl);
  for (auto _ : state) benchmark::DoNotOptimize(dispatch::call(op, {x}, attrs));
  r.clear_override(op, DeviceType::cpu);
  state.SetBytesProcessed(state.iterations() * x.nbytes());
}

using Dims = std::vector<int64_t>;
const Shape kRows = {4096, 1000};

#define OSPREY_PAIR(NAME, OP, FAST, ATTRS)                    \
  void NAME##_reference(benchmark::State& s) {                \
    run(s, OP, "reference", kRows, ATTRS);                    \
  }                                                           \
  void NAME##_##FAST(benchmark::State& s) {                   \
    run(s, OP, #FAST, kRows, ATTRS);                          \
  }                                                           \
  BENCHMARK(NAME##_reference)->Unit(benchmark::kMillisecond); \
  BENCHMARK(NAME##_##FAST)->Unit(benchmark::kMillisecond);

OSPREY_PAIR(sum_rows, "sum", blocked, (dispatch::Attrs{{"dims", Dims{1}}}))
OSPREY_PAIR(sum_columns, "sum", blocked, (dispatch::Attrs{{"dims", Dims{0}}}))
OSPREY_PAIR(max_rows, "max", inplace, (dispatch::Attrs{{"dim", 1}}))
OSPREY_PAIR(max_columns, "max", inplace, (dispatch::Attrs{{"dim", 0}}))
OSPREY_PAIR(softmax_rows, "softmax", lastdim, (dispatch::Attrs{{"dim", 1}}))
OSPREY_PAIR(log_softmax_rows, "log_softmax", lastdim, (dispatch::Attrs{{"dim", 1}}))
void sum_nchw_reference(benchmark::State& s) {
  run(s, "sum", "reference", {32, 64, 28, 28}, dispatch::Attrs{{"dims", Dims{0, 2, 3}}});
}
void sum_nchw_blocked(benchmark::State& s) {
  run(s, "sum", "blocked", {32, 64, 28, 28}, dispatch::Attrs{{"dims", Dims{0, 2, 3}}});
}
BENCHMARK(sum_nchw_reference)->Unit(benchmark::kMillisecond);
BENCHMARK(sum_nchw_blocked)->Unit(benchmark::kMillisecond);
OSPREY_PAIR(topk_rows, "topk", lastdim, (dispatch::Attrs{{"k", 5}}))

}  // namespace
}  // namespace osprey

BENCHMARK_MAIN();
