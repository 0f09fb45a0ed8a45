// Element-wise add of 2^24 floats (64 MiB per operand) through the dispatcher, writing into
// preallocated buffers, against memcpy of the same buffers: how close the cpu_map flat loop plus
// dispatch overhead comes to the memory system's copy bandwidth. Bandwidth counts the bytes each
// variant must move: add reads two operands and writes one (3 x 64 MiB), memcpy reads one and
// writes one (2 x 64 MiB). The run ends with the ratio add/memcpy of those bandwidths.
//
// Then cpu_map's strided (non-flat) path on the patterns that used to take a division per
// dimension per element: an image batch minus per-channel means, x[2,3,608,800] - s[1,3,1,1]
// (normalise_batch's shape); a conv bias, x[8,256,56,56] + b[1,256,1,1]; and a channels-last add
// of two [8,64,56,56] tensors forced onto the "reference" kernel (the default picks the dense
// one). Their bandwidth counts the big operands only (the broadcast one is a few bytes).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "framework/autograd/grad_mode.h"
#include "framework/core/tensor.h"
#include "framework/core/thread_environment.h"
#include "framework/dispatch/registry.h"
#include "ops/elementwise/elementwise.h"

namespace {

using osprey::DType;
using osprey::Tensor;

constexpr int64_t kElements = int64_t{1} << 24;

struct Buffers {
  Tensor a, b, out;
  Buffers() {
    a = Tensor::empty({kElements}, DType::f32);
    b = Tensor::empty({kElements}, DType::f32);
    out = Tensor::empty({kElements}, DType::f32);
    a.fill_(1.5);  // also faults every page in before timing
    b.fill_(-0.25);
    out.zero_();
  }
};

Buffers& buffers() {
  static Buffers instance;
  return instance;
}

void set_bandwidth(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
}

void BM_add_out(benchmark::State& state) {
  osprey::autograd::NoGradGuard no_grad;
  auto& buf = buffers();
  for (auto _ : state) {
    osprey::dispatch::call_out("add", buf.out, {buf.a, buf.b});
    benchmark::DoNotOptimize(buf.out.raw_data());
    benchmark::ClobberMemory();
  }
  set_bandwidth(state, 3 * kElements * static_cast<int64_t>(sizeof(float)));
}

// The same on one thread: memcpy is single-threaded, so this is the like-for-like ratio.
void BM_add_out_1thread(benchmark::State& state) {
#ifdef _OPENMP
  int previous = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
  BM_add_out(state);
#ifdef _OPENMP
  omp_set_num_threads(previous);
#endif
}

void BM_add_inplace(benchmark::State& state) {
  osprey::autograd::NoGradGuard no_grad;
  auto& buf = buffers();
  for (auto _ : state) {
    osprey::ops::add_(buf.out, buf.b);
    benchmark::DoNotOptimize(buf.out.raw_data());
    benchmark::ClobberMemory();
  }
  set_bandwidth(state, 3 * kElements * static_cast<int64_t>(sizeof(float)));
}

void BM_memcpy(benchmark::State& state) {
  auto& buf = buffers();
  for (auto _ : state) {
    std::memcpy(buf.out.raw_data(), buf.a.raw_data(), kElements * sizeof(float));
    benchmark::DoNotOptimize(buf.out.raw_data());
    benchmark::ClobberMemory();
  }
  set_bandwidth(state, 2 * kElements * static_cast<int64_t>(sizeof(float)));
}

// out = op(x, y) through the dispatcher into a preallocated `out`, forcing the CPU kernel `impl`
// ("" keeps the default choice).
void run_binary_out(benchmark::State& state, const char* op, const char* impl, const Tensor& x,
                    const Tensor& y, Tensor& out, int64_t bytes_per_iteration) {
  osprey::autograd::NoGradGuard no_grad;
  auto& registry = osprey::dispatch::Registry::instance();
  if (*impl) registry.set_override(op, osprey::DeviceType::cpu, impl);
  for (auto _ : state) {
    osprey::dispatch::call_out(op, out, {x, y});
    benchmark::DoNotOptimize(out.raw_data());
    benchmark::ClobberMemory();
  }
  if (*impl) registry.clear_override(op, osprey::DeviceType::cpu);
  set_bandwidth(state, bytes_per_iteration);
}

Tensor filled(const osprey::Shape& shape, double value,
              osprey::MemoryFormat format = osprey::MemoryFormat::contiguous) {
  Tensor t = Tensor::empty(shape, DType::f32, osprey::Device::cpu(), format);
  t.fill_(value);
  return t;
}

void BM_sub_channel_means(benchmark::State& state) {
  static Tensor x = filled({2, 3, 608, 800}, 117.0), s = filled({1, 3, 1, 1}, 103.5),
                out = filled({2, 3, 608, 800}, 0.0);
  run_binary_out(state, "sub", "", x, s, out, 2 * x.numel() * 4);
}

void BM_add_conv_bias(benchmark::State& state) {
  static Tensor x = filled({8, 256, 56, 56}, 1.5), b = filled({1, 256, 1, 1}, -0.25),
                out = filled({8, 256, 56, 56}, 0.0);
  run_binary_out(state, "add", "", x, b, out, 2 * x.numel() * 4);
}

void BM_add_channels_last(benchmark::State& state) {
  constexpr auto kLast = osprey::MemoryFormat::channels_last;
  static Tensor x = filled({8, 64, 56, 56}, 1.5, kLast), y = filled({8, 64, 56, 56}, -0.25, kLast),
                out = filled({8, 64, 56, 56}, 0.0, kLast);
  run_binary_out(state, "add", "reference", x, y, out, 3 * x.numel() * 4);
}

BENCHMARK(BM_memcpy)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_add_out)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_add_out_1thread)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_add_inplace)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sub_channel_means)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_add_conv_bias)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_add_channels_last)->UseRealTime()->Unit(benchmark::kMillisecond);

// Prints runs as usual and remembers each benchmark's bandwidth for the closing ratio. With
// repetitions, the median aggregate (or the last plain run) is kept.
class BandwidthReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (a custom reporter does not see --benchmark_color).
  BandwidthReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      auto it = run.counters.find("bytes_per_second");
      if (it == run.counters.end() || run.error_occurred) continue;
      bool aggregate = run.run_type == Run::RT_Aggregate;
      if (aggregate && run.aggregate_name != "median") continue;
      std::string name = run.run_name.function_name;
      if (aggregate || !medians_.count(name)) bandwidth_[name] = it->second.value;
      if (aggregate) medians_[name] = true;
    }
  }
  const std::map<std::string, double>& bandwidth() const { return bandwidth_; }

 private:
  std::map<std::string, double> bandwidth_;
  std::map<std::string, bool> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  BandwidthReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const auto& bw = reporter.bandwidth();
  auto memcpy_it = bw.find("BM_memcpy");
  if (memcpy_it == bw.end() || memcpy_it->second <= 0) return 0;
#ifdef _OPENMP
  int threads = omp_get_max_threads();
#else
  int threads = 1;
#endif
  std::printf(
      "\n2^24 f32 elements; add uses %d OpenMP thread(s) (add_out_1thread: one); memcpy is "
      "single-threaded\n",
      threads);
  std::printf("%-20s %10.2f GB/s\n", "memcpy", memcpy_it->second / 1e9);
  for (const char* name : {"BM_add_out", "BM_add_out_1thread", "BM_add_inplace",
                           "BM_sub_channel_means", "BM_add_conv_bias", "BM_add_channels_last"}) {
    auto it = bw.find(name);
    if (it == bw.end()) continue;
    std::printf("%-20s %10.2f GB/s   ratio op/memcpy = %.2f\n", name + 3, it->second / 1e9,
                it->second / memcpy_it->second);
  }
  return 0;
}
