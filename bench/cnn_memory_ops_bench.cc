// The memory-bound ops of a ResNet-20 training step on its activation shapes (batch 128:
// 16x28x28, 32x14x14, 64x7x7) in NCHW and channels-last: batch_norm forward and backward
// (training), relu, threshold_backward, add, and the fusions batch_norm(relu=true) and add_relu
// against their unfused pairs. Each op runs with the kernels before this work (the strided
// batch_norm "channels" kernels, the element-wise "reference" loops) and with the fast ones, and
// PyTorch (bench/reference/torch_memory_ops.py, run through /usr/bin/python3, 2 threads) times the
// same calls. The run ends with a table of milliseconds (best of 5 repetitions; PyTorch: best of
// its timed calls) and ratios, all measured in this run.
//   Usage: cnn_memory_ops_bench [--benchmark_min_time=0.05] [--no_torch]
// On a machine shared with other busy processes run it with OMP_WAIT_POLICY=passive: libgomp's
// default spin-then-sleep waiting made every parallel region cost ~30 ms of wall time there
// (measured 2026-11-27 at load ~8 on 2 cores), which buries every kernel's own time.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/activation/activation.h"
#include "ops/add_relu/add_relu.h"
#include "ops/batch_norm/batch_norm.h"
#include "ops/elementwise/elementwise.h"
#include "ops/factory/factory.h"
#include "ops/random/random.h"

namespace {

using osprey::MemoryFormat;
using osprey::Tensor;
namespace ops = osprey::ops;

struct Shape4 {
  int64_t c, hw;
};
const Shape4 kShapes[] = {{16, 28}, {32, 14}, {64, 7}};
constexpr int64_t kBatch = 128;
constexpr int kRepetitions = 5;

struct Operands {
  Tensor x, y, g, w, b, rm, rv, save_mean, save_invstd, relu_out;
};

Operands make_operands(Shape4 s, MemoryFormat f) {
  osprey::random::Generator gen(7);
  Operands o;
  const osprey::Shape shape{kBatch, s.c, s.hw, s.hw};
  o.x = ops::normal(shape, 0.0, 1.0, gen).contiguous(f);
  o.y = ops::normal(shape, 0.0, 1.0, gen).contiguous(f);
  o.g = ops::normal(shape, 0.0, 1.0, gen).contiguous(f);
  o.w = ops::uniform({s.c}, 0.5, 1.5, gen);
  o.b = ops::uniform({s.c}, -0.5, 0.5, gen);
  o.rm = ops::zeros({s.c});
  o.rv = ops::ones({s.c});
  auto r = ops::batch_norm(o.x, o.w, o.b, o.rm, o.rv, true);
  o.save_mean = r.save_mean;
  o.save_invstd = r.save_invstd;
  o.relu_out = ops::relu(o.x);
  return o;
}

// Forces `impl` for each listed op while alive ("" keeps the default choice).
struct Forced {
  std::vector<std::string> ops;
  Forced(std::vector<std::string> names, const std::string& impl) {
    if (impl.empty()) return;
    ops = std::move(names);
    for (auto& op : ops) {
      osprey::dispatch::Registry::instance().set_override(op, osprey::DeviceType::cpu, impl);
    }
  }
  ~Forced() {
    for (auto& op : ops) {
      osprey::dispatch::Registry::instance().clear_override(op, osprey::DeviceType::cpu);
    }
  }
};

struct Variant {
  std::string op;      // the name the table and the PyTorch script use
  std::string column;  // "old", "new", "unfused", "fused"
  std::vector<std::string> forced_ops;
  std::string impl;
  std::function<void(Operands&)> run;
};

std::vector<Variant> variants() {
  auto bn = [](Operands& o, bool relu) {
    benchmark::DoNotOptimize(ops::batch_norm(o.x, o.w, o.b, o.rm, o.rv, true, 0.1, 1e-5, relu));
  };
  auto bn_bwd = [](Operands& o) {
    benchmark::DoNotOptimize(
        ops::batch_norm_backward(o.g, o.x, o.w, o.save_mean, o.save_invstd, true));
  };
  auto relu = [](Operands& o) { benchmark::DoNotOptimize(ops::relu(o.x)); };
  auto tb = [](Operands& o) {
    benchmark::DoNotOptimize(ops::threshold_backward(o.g, o.relu_out, 0.0));
  };
  auto add = [](Operands& o) { benchmark::DoNotOptimize(ops::add(o.x, o.y)); };
  const std::vector<std::string> bn_ops{"batch_norm"}, bwd_ops{"batch_norm_backward"};
  return {
      {"bn_fwd", "old", bn_ops, "channels", [bn](Operands& o) { bn(o, false); }},
      {"bn_fwd", "new", bn_ops, "", [bn](Operands& o) { bn(o, false); }},
      {"bn_bwd", "old", bwd_ops, "channels", bn_bwd},
      {"bn_bwd", "new", bwd_ops, "", bn_bwd},
      {"relu", "old", {"relu"}, "reference", relu},
      {"relu", "new", {}, "", relu},
      {"threshold_backward", "old", {"threshold_backward"}, "reference", tb},
      {"threshold_backward", "new", {}, "", tb},
      {"add", "old", {"add"}, "reference", add},
      {"add", "new", {}, "", add},
      {"bn_relu",
       "unfused",
       {},
       "",
       [bn](Operands& o) {
         benchmark::DoNotOptimize(ops::relu(ops::batch_norm(o.x, o.w, o.b, o.rm, o.rv).output));
       }},
      {"bn_relu", "fused", {}, "", [bn](Operands& o) { bn(o, true); }},
      {"add_relu",
       "unfused",
       {},
       "",
       [](Operands& o) { benchmark::DoNotOptimize(ops::relu(ops::add(o.x, o.y))); }},
      {"add_relu",
       "fused",
       {},
       "",
       [](Operands& o) { benchmark::DoNotOptimize(ops::add_relu(o.x, o.y)); }},
  };
}

std::string key(const std::string& op, Shape4 s, MemoryFormat f) {
  return op + "/" + std::to_string(s.c) + "x" + std::to_string(s.hw) + "/" +
         (f == MemoryFormat::channels_last ? "nhwc" : "nchw");
}

// The best (minimum over repetitions) milliseconds per iteration of every benchmark, by the name
// it was registered with. On a shared, loaded machine the minimum is the least noisy statistic.
class Collector : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ms;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Aggregate || run.aggregate_name != "min") continue;
      std::string name = run.benchmark_name();
      name = name.substr(0, std::min(name.find("/repeats:"), name.find("/real_time")));
      ms[name] = run.GetAdjustedRealTime();  // in the benchmarks' unit, ms
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

// The flat {"name": number, ...} object the PyTorch script prints.
std::map<std::string, double> parse_flat_json(const std::string& text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while ((pos = text.find('"', pos)) != std::string::npos) {
    const size_t end = text.find('"', pos + 1);
    if (end == std::string::npos) break;
    const std::string name = text.substr(pos + 1, end - pos - 1);
    const size_t colon = text.find(':', end);
    if (colon == std::string::npos) break;
    out[name] = std::strtod(text.c_str() + colon + 1, nullptr);
    pos = text.find_first_of(",}", colon);
    if (pos == std::string::npos) break;
  }
  return out;
}

std::map<std::string, double> run_torch() {
  const std::string script = osprey::bench::reference_script("torch_memory_ops.py");
  FILE* pipe = popen(("/usr/bin/python3 " + script + " 2>/dev/null").c_str(), "r");
  if (!pipe) return {};
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) text.append(buffer, n);
  if (pclose(pipe) != 0) {
    std::printf("PyTorch reference failed (is torch installed for /usr/bin/python3?)\n");
    return {};
  }
  return parse_flat_json(text);
}

}  // namespace

int main(int argc, char** argv) {
  bool torch = true;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no_torch") == 0) {
      torch = false;
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  osprey::autograd::NoGradGuard no_grad;
  std::map<std::string, Operands> operands;
  const auto all = variants();
  for (Shape4 s : kShapes) {
    for (MemoryFormat f : {MemoryFormat::contiguous, MemoryFormat::channels_last}) {
      operands[key("", s, f)] = make_operands(s, f);
      for (const auto& v : all) {
        Operands* o = &operands[key("", s, f)];
        benchmark::RegisterBenchmark((key(v.op, s, f) + "/" + v.column).c_str(),
                                     [v, o](benchmark::State& state) {
                                       Forced forced(v.forced_ops, v.impl);
                                       for (auto _ : state) v.run(*o);
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Repetitions(kRepetitions)
            ->ComputeStatistics(
                "min",
                [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
            ->DisplayAggregatesOnly(true);
      }
    }
  }
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  std::map<std::string, double> reference = torch ? run_torch() : std::map<std::string, double>{};

  std::printf("\n%-36s %9s %9s %9s %8s %10s\n", "op/shape/layout (ms)", "old|unfus", "new|fused",
              "torch", "old/new", "new/torch");
  std::map<std::string, std::pair<double, double>> rows;
  std::vector<std::string> order;
  for (Shape4 s : kShapes) {
    for (MemoryFormat f : {MemoryFormat::contiguous, MemoryFormat::channels_last}) {
      for (const auto& v : all) {
        const std::string k = key(v.op, s, f);
        if (!rows.count(k)) order.push_back(k);
        auto it = collector.ms.find(k + "/" + v.column);
        if (it == collector.ms.end()) continue;
        auto& row = rows[k];
        (v.column == "old" || v.column == "unfused" ? row.first : row.second) = it->second;
      }
    }
  }
  for (const auto& k : order) {
    const auto [before, after] = rows[k];
    if (before == 0 || after == 0) continue;
    // PyTorch has no fused forms: its unfused pair is the comparison for both.
    std::string torch_key = k;
    if (k.rfind("bn_relu/", 0) == 0 || k.rfind("add_relu/", 0) == 0) {
      torch_key.insert(k.find('/'), "_unfused");
    }
    auto t = reference.find(torch_key);
    if (t != reference.end()) {
      std::printf("%-36s %9.3f %9.3f %9.3f %8.2f %10.2f\n", k.c_str(), before, after, t->second,
                  before / after, after / t->second);
    } else {
      std::printf("%-36s %9.3f %9.3f %9s %8.2f %10s\n", k.c_str(), before, after, "-",
                  before / after, "-");
    }
  }
  benchmark::Shutdown();
  return 0;
}
