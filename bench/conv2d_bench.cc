// f32 conv2d on CPU, forward and forward+backward (input and weight gradients), over ResNet-20
// (Fashion-MNIST 28×28, batch 128), ResNet-18 (64×64, batch 32), ResNet-50 (224×224, batch 8)
// and one large 8×256×32² shape.
// Each registered CPU kernel of conv2d is run by name through the registry override (the same
// impl is used for the two backward ops where it exists, else their default), and PyTorch's time
// for the same shape is measured in the same run by bench/reference/torch_cpu_reference.py
// (/usr/bin/python3, torch.set_num_threads(threads)). The summary prints GFLOP/s and the ratio
// osprey time / PyTorch time (median and best iteration) per kernel, shape and mode.
//
//   ./build/bench/conv2d_bench [--threads=2] [--min-time-ms=300] [--reference=0|1]
//                              [--shapes=substring] [google benchmark flags]
// --reference=1 adds cpu/reference (slow); --shapes keeps the shapes whose name contains it;
// --modes=fwd,fwdbwd (default) may add bwi / bww: the input / weight gradient alone (osprey only).
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <omp.h>

#include <cblas.h>
#include <time.h>
#include <algorithm>

#include <chrono>
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

namespace {

using osprey::Tensor;
using osprey::dispatch::Registry;

struct ConvShape {
  std::string name;
  int64_t n, c, h, w, o, k, stride, padding, groups;
  int64_t out(int64_t size) const { return (size + 2 * padding - k) / stride + 1; }
  // Multiply-adds counted twice, forward only.
  double flops() const { return 2.0 * n * o * out(h) * out(w) * (c / groups) * k * k; }
};

std::vector<ConvShape> all_shapes() {
  return {
      // ResNet-20 on 28×28, batch 128: stage convs, stride-2 stage starts, 1×1 projections.
      {"r20_s1_16x28", 128, 16, 28, 28, 16, 3, 1, 1, 1},
      {"r20_s2_down_16to32", 128, 16, 28, 28, 32, 3, 2, 1, 1},
      {"r20_s2_32x14", 128, 32, 14, 14, 32, 3, 1, 1, 1},
      {"r20_s3_down_32to64", 128, 32, 14, 14, 64, 3, 2, 1, 1},
      {"r20_s3_64x7", 128, 64, 7, 7, 64, 3, 1, 1, 1},
      {"r20_proj_16to32_1x1s2", 128, 16, 28, 28, 32, 1, 2, 0, 1},
      {"r20_proj_32to64_1x1s2", 128, 32, 14, 14, 64, 1, 2, 0, 1},
      {"r20_stem_1to16", 128, 1, 28, 28, 16, 3, 1, 1, 1},
      // ResNet-18 on 64×64, batch 32 (stem 7×7/2 then max-pool to 16×16).
      {"r18_stem_7x7s2", 32, 3, 64, 64, 64, 7, 2, 3, 1},
      {"r18_l1_64x16", 32, 64, 16, 16, 64, 3, 1, 1, 1},
      {"r18_l2_down_64to128", 32, 64, 16, 16, 128, 3, 2, 1, 1},
      {"r18_l2_128x8", 32, 128, 8, 8, 128, 3, 1, 1, 1},
      {"r18_l3_256x4", 32, 256, 4, 4, 256, 3, 1, 1, 1},
      {"r18_l4_512x2", 32, 512, 2, 2, 512, 3, 1, 1, 1},
      // ResNet-50 (v1.5: stride in the 3×3) on 224×224, batch 8: every distinct conv.
      {"r50_stem_7x7s2", 8, 3, 224, 224, 64, 7, 2, 3, 1},
      {"r50_l1_1x1_64to64", 8, 64, 56, 56, 64, 1, 1, 0, 1},
      {"r50_l1_3x3_64", 8, 64, 56, 56, 64, 3, 1, 1, 1},
      {"r50_l1_1x1_64to256", 8, 64, 56, 56, 256, 1, 1, 0, 1},
      {"r50_l1_1x1_256to64", 8, 256, 56, 56, 64, 1, 1, 0, 1},
      {"r50_l2_1x1_256to128", 8, 256, 56, 56, 128, 1, 1, 0, 1},
      {"r50_l2_3x3s2_128", 8, 128, 56, 56, 128, 3, 2, 1, 1},
      {"r50_l2_1x1s2_256to512", 8, 256, 56, 56, 512, 1, 2, 0, 1},
      {"r50_l2_1x1_128to512", 8, 128, 28, 28, 512, 1, 1, 0, 1},
      {"r50_l2_1x1_512to128", 8, 512, 28, 28, 128, 1, 1, 0, 1},
      {"r50_l2_3x3_128", 8, 128, 28, 28, 128, 3, 1, 1, 1},
      {"r50_l3_1x1_512to256", 8, 512, 28, 28, 256, 1, 1, 0, 1},
      {"r50_l3_3x3s2_256", 8, 256, 28, 28, 256, 3, 2, 1, 1},
      {"r50_l3_1x1s2_512to1024", 8, 512, 28, 28, 1024, 1, 2, 0, 1},
      {"r50_l3_1x1_256to1024", 8, 256, 14, 14, 1024, 1, 1, 0, 1},
      {"r50_l3_1x1_1024to256", 8, 1024, 14, 14, 256, 1, 1, 0, 1},
      {"r50_l3_3x3_256", 8, 256, 14, 14, 256, 3, 1, 1, 1},
      {"r50_l4_1x1_1024to512", 8, 1024, 14, 14, 512, 1, 1, 0, 1},
      {"r50_l4_3x3s2_512", 8, 512, 14, 14, 512, 3, 2, 1, 1},
      {"r50_l4_1x1s2_1024to2048", 8, 1024, 14, 14, 2048, 1, 2, 0, 1},
      {"r50_l4_1x1_512to2048", 8, 512, 7, 7, 2048, 1, 1, 0, 1},
      {"r50_l4_1x1_2048to512", 8, 2048, 7, 7, 512, 1, 1, 0, 1},
      {"r50_l4_3x3_512", 8, 512, 7, 7, 512, 3, 1, 1, 1},
      // The issue's large single layer.
      {"big_8x256x32", 8, 256, 32, 32, 256, 3, 1, 1, 1},
  };
}

struct Operands {
  Tensor x, w, g;
};

// Per-iteration seconds by benchmark name (kernel/shape/mode), for medians and bests.
std::map<std::string, std::vector<double>>& iteration_times() {
  static std::map<std::string, std::vector<double>> times;
  return times;
}

// CPU seconds of every thread of the process: on a loaded machine, work per core-second is a
// steadier comparison than wall time (it leaves out parallel scaling).
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void use_kernel(const std::string& impl) {
  Registry& r = Registry::instance();
  for (const char* op : {"conv2d", "conv2d_backward_input", "conv2d_backward_weight"}) {
    bool has = false;
    for (const auto* k : r.kernels(op, osprey::DeviceType::cpu)) has = has || k->impl == impl;
    if (has) {
      r.set_override(op, osprey::DeviceType::cpu, impl);
    } else {
      r.clear_override(op, osprey::DeviceType::cpu);
    }
  }
}

void run_conv(benchmark::State& state, const ConvShape& s, const Operands& o,
              const std::string& impl, const std::string& mode, const std::string& key) {
  osprey::autograd::NoGradGuard no_grad;
  use_kernel(impl);
  const std::vector<int64_t> stride{s.stride, s.stride}, padding{s.padding, s.padding},
      dilation{1, 1};
  auto step = [&] {
    if (mode == "fwd" || mode == "fwdbwd") {
      Tensor y = osprey::ops::conv2d(o.x, o.w, {}, stride, padding, dilation, s.groups);
      benchmark::DoNotOptimize(y.raw_data());
    }
    if (mode == "bwi" || mode == "fwdbwd") {
      Tensor dx = osprey::ops::conv2d_backward_input(o.g, o.w, o.x.shape(), stride, padding,
                                                     dilation, s.groups);
      benchmark::DoNotOptimize(dx.raw_data());
    }
    if (mode == "bww" || mode == "fwdbwd") {
      Tensor dw = osprey::ops::conv2d_backward_weight(o.g, o.x, o.w.shape(), stride, padding,
                                                      dilation, s.groups);
      benchmark::DoNotOptimize(dw.raw_data());
    }
  };
  try {
    step();  // warm-up (allocator, OpenBLAS buffers)
  } catch (const osprey::Error& e) {
    // A kernel forced by name whose `supports` declines this shape (cpu/onednn leaves some
    // shapes to our kernels): nothing to time.
    use_kernel("");
    if (e.kind() != osprey::ErrorKind::not_found) throw;
    state.SkipWithError("declined by the kernel's supports()");
    return;
  }
  std::vector<double>& times = iteration_times()[key];
  std::vector<double>& cpu = iteration_times()[key + "/cpu"];
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_seconds();
    step();
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu.push_back(process_cpu_seconds() - c0);
    state.SetIterationTime(sec);
    times.push_back(sec);
  }
  state.SetLabel(impl);
  state.counters["GFLOP/s"] = benchmark::Counter(
      s.flops() * (mode == "fwdbwd" ? 3 : 1) * state.iterations(), benchmark::Counter::kIsRate);
  use_kernel("");
}

struct TorchTime {
  double median, best, cpu;
};

// PyTorch's median, best and median CPU seconds by "shape/mode", from the reference script's JSON
// (a flat scan: the script prints one object per result with fixed keys). Empty when torch is
// missing.
std::map<std::string, TorchTime> torch_times(const std::vector<ConvShape>& shapes, int threads,
                                             double min_time) {
  std::string spec = fmt::format(R"({{"threads": {}, "min_time": {}, "modes": ["fwd", "fwdbwd"], )"
                                 R"("shapes": [)",
                                 threads, min_time);
  for (size_t i = 0; i < shapes.size(); ++i) {
    const ConvShape& s = shapes[i];
    spec += fmt::format(
        R"({}{{"name": "{}", "n": {}, "c": {}, "h": {}, "w": {}, "o": {}, "k": {}, "stride": {}, )"
        R"("padding": {}, "groups": {}}})",
        i ? ", " : "", s.name, s.n, s.c, s.h, s.w, s.o, s.k, s.stride, s.padding, s.groups);
  }
  spec += "]}";
  const std::string script = osprey::bench::reference_script("torch_cpu_reference.py");
  const std::string cmd = fmt::format("/usr/bin/python3 '{}' '{}' 2>&1", script, spec);
  std::map<std::string, TorchTime> out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    std::printf("PyTorch reference: cannot start %s\n", cmd.c_str());
    return out;
  }
  std::string text;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, got);
  pclose(pipe);
  if (text.find("\"results\"") == std::string::npos) {
    std::printf("PyTorch reference unavailable (python3-torch missing?): %s\n", text.c_str());
    return out;
  }
  auto field = [&](size_t from, const char* key) {
    const size_t at = text.find(fmt::format("\"{}\": ", key), from);
    return at == std::string::npos ? std::string() : text.substr(at + std::strlen(key) + 4);
  };
  for (size_t at = text.find("{\"name\""); at != std::string::npos;
       at = text.find("{\"name\"", at + 1)) {
    std::string name = field(at, "name");
    name = name.substr(1, name.find('"', 1) - 1);
    std::string mode = field(at, "mode");
    mode = mode.substr(1, mode.find('"', 1) - 1);
    out[name + "/" + mode] = {std::stod(field(at, "median_s")), std::stod(field(at, "best_s")),
                              std::stod(field(at, "cpu_median_s"))};
  }
  const size_t version = text.find("\"torch\": \"");
  if (version != std::string::npos) {
    std::printf("PyTorch %s, %d threads\n",
                text.substr(version + 10, text.find('"', version + 10) - version - 10).c_str(),
                threads);
  }
  return out;
}

}  // namespace

using osprey::bench::best;
using osprey::bench::median;
using osprey::bench::take_flag;

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  const int threads = std::stoi(take_flag(argc, argv, "--threads", "2"));
  const double min_time = std::stod(take_flag(argc, argv, "--min-time-ms", "300")) / 1000.0;
  const bool with_reference = take_flag(argc, argv, "--reference", "0") == "1";
  const std::string filter = take_flag(argc, argv, "--shapes", "");
  std::vector<std::string> modes;
  const std::string mode_list = take_flag(argc, argv, "--modes", "fwd,fwdbwd") + ",";
  for (size_t at = 0, comma; (comma = mode_list.find(',', at)) != std::string::npos; at = comma + 1)
    if (comma > at) modes.push_back(mode_list.substr(at, comma - at));
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);

  std::vector<ConvShape> shapes;
  for (const ConvShape& s : all_shapes())
    if (s.name.find(filter) != std::string::npos) shapes.push_back(s);
  std::vector<std::string> impls;
  for (const auto* k : Registry::instance().kernels("conv2d", osprey::DeviceType::cpu))
    if (with_reference || k->impl != "reference") impls.push_back(k->impl);

  std::map<std::string, Operands> operands;
  {
    osprey::autograd::NoGradGuard no_grad;
    osprey::ops::CaseRandom rng(1);
    for (const ConvShape& s : shapes) {
      Operands& o = operands[s.name];
      o.x = rng.uniform({s.n, s.c, s.h, s.w}, osprey::DType::f32);
      o.w = rng.uniform({s.o, s.c / s.groups, s.k, s.k}, osprey::DType::f32);
      o.g = rng.uniform({s.n, s.o, s.out(s.h), s.out(s.w)}, osprey::DType::f32);
    }
  }
  std::vector<std::string> keys;
  for (const ConvShape& s : shapes)
    for (const std::string& mode : modes)
      for (const std::string& impl : impls) {
        const std::string key = fmt::format("{}/{}/{}", impl, s.name, mode);
        keys.push_back(key);
        benchmark::RegisterBenchmark(key.c_str(),
                                     [s, impl, mode, key, &operands](benchmark::State& st) {
                                       run_conv(st, s, operands.at(s.name), impl, mode, key);
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseManualTime()
            ->MinTime(min_time);
      }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  const auto torch = torch_times(shapes, threads, min_time);

  std::printf("\n%-13s %-24s %-7s %9s %8s %8s %9s %8s %8s %11s %6s\n", "kernel", "shape", "mode",
              "ms(med)", "GFLOP/s", "cpuGF/s", "torch ms", "GFLOP/s", "cpuGF/s", "ratio", "cpu");
  std::printf("%s\n", std::string(124, '-').c_str());
  for (const ConvShape& s : shapes)
    for (const std::string& mode : modes)
      for (const std::string& impl : impls) {
        const std::string key = fmt::format("{}/{}/{}", impl, s.name, mode);
        const auto& t = iteration_times()[key];
        if (t.empty()) continue;
        const double ours_cpu = median(iteration_times()[key + "/cpu"]);
        const double flops = s.flops() * (mode == "fwdbwd" ? 3 : 1);
        const double ours = median(t);
        std::string torch_ms = "-", torch_gf = "-", torch_cpu_gf = "-", ratio = "-",
                    cpu_ratio = "-";
        const auto it = torch.find(s.name + "/" + mode);
        if (it != torch.end()) {
          torch_ms = fmt::format("{:.3f}", it->second.median * 1e3);
          torch_gf = fmt::format("{:.1f}", flops / it->second.median / 1e9);
          torch_cpu_gf = fmt::format("{:.1f}", flops / it->second.cpu / 1e9);
          ratio = fmt::format("{:.2f}/{:.2f}", ours / it->second.median, best(t) / it->second.best);
          cpu_ratio = fmt::format("{:.2f}", ours_cpu / it->second.cpu);
        }
        std::printf("%-13s %-24s %-7s %9.3f %8.1f %8.1f %9s %8s %8s %11s %6s\n", impl.c_str(),
                    s.name.c_str(), mode.c_str(), ours * 1e3, flops / ours / 1e9,
                    flops / ours_cpu / 1e9, torch_ms.c_str(), torch_gf.c_str(),
                    torch_cpu_gf.c_str(), ratio.c_str(), cpu_ratio.c_str());
      }
  std::printf(
      "ratio = osprey time / PyTorch time, median/best iteration (< 1: osprey faster); cpu = the "
      "same for CPU seconds of all threads (steadier on a loaded machine)\n");
  benchmark::Shutdown();
  return 0;
}
