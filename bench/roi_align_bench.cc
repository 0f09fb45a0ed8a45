// roi_align forward and forward + backward (gradient for the feature map through autograd) on the
// kernels the dispatcher picks, against torchvision's roi_align on the same shape in the same run
// (bench/reference/torch_roi_align.py; /usr/bin/python3 on the CPU, python3 on the GPU machine).
// Shapes (issue 4):
//   cpu  (default): 2 × 1024 × 32 × 32 f32 map, 256 RoIs per image, 14 × 14, sampling 2,
//                   spatial_scale 1/16, aligned; torch with --threads threads (2).
//   cuda (--device=cuda): 8 × 1024 × 32 × 32, 512 RoIs per image (goals: forward <= 2 ms,
//                   forward + backward <= 8 ms on an H100).
// RoIs follow bench_torch.py's make_rois: corner in [0, image − 32), size in [16, 256) input
// pixels, clipped to the image (HW / spatial_scale pixels); our draw uses its own generator, so
// the boxes differ from torch's but not their distribution. The summary prints both times and
// torch / ours (the speed-up; issue goal on the CPU: >= 10 for forward + backward), by wall time
// (median and best) and, on the CPU, by process CPU time (all threads), which the load of a shared
// machine disturbs much less.
//
//   ./build/bench/roi_align_bench [--device=cpu|cuda] [--batch=N] [--channels=C] [--size=HW]
//       [--rois=R per image] [--rounds=3] [--torch-reps=3] [--threads=2] [--reference=1|0]
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/thread_environment.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/roi_align/roi_align.h"

namespace {

using osprey::Tensor;

constexpr double kScale = 1.0 / 16;
constexpr int64_t kOut = 14;

struct Operands {
  Tensor x, rois, grad;
};

Operands& operands() {
  static Operands o;
  return o;
}

Tensor make_rois(int64_t images, int64_t per_image, double image_size, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> corner(0, image_size - 32), size(16, 256);
  std::vector<double> v;
  for (int64_t n = 0; n < images; ++n)
    for (int64_t k = 0; k < per_image; ++k) {
      const double x1 = corner(engine), y1 = corner(engine);
      const double x2 = std::min(x1 + size(engine), image_size);
      const double y2 = std::min(y1 + size(engine), image_size);
      v.insert(v.end(), {static_cast<double>(n), x1, y1, x2, y2});
    }
  return Tensor::from_vector<double>(v, {images * per_image, 5}).to(osprey::DType::f32);
}

// Reading one value back waits for the device (a no-op wait on the CPU).
void wait_for(const Tensor& t) {
  benchmark::DoNotOptimize(t.at<float>({0, 0, 0, 0}));
}

// CPU seconds of the whole process (all threads) per iteration, by family: on a machine shared
// with other jobs the wall time mostly measures the load, CPU time much less so.
std::map<std::string, std::vector<double>>& cpu_times() {
  static std::map<std::string, std::vector<double>> times;
  return times;
}

struct CpuClock {
  std::string family;
  std::clock_t start = std::clock();
  int64_t iterations = 0;
  ~CpuClock() {
    if (iterations > 0) {
      cpu_times()[family].push_back(static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC *
                                    1e3 / static_cast<double>(iterations));
    }
  }
};

void bm_forward(benchmark::State& state) {
  Operands& o = operands();
  osprey::autograd::NoGradGuard no_grad;
  CpuClock clock{"fwd"};
  for (auto _ : state) {
    Tensor y = osprey::ops::roi_align(o.x, o.rois, {kOut}, kScale, 2, true);
    wait_for(y);
    ++clock.iterations;
  }
}

void bm_forward_backward(benchmark::State& state) {
  Operands& o = operands();
  CpuClock clock{"fwd_bwd"};
  for (auto _ : state) {
    ++clock.iterations;
    o.x.zero_grad();
    Tensor y = osprey::ops::roi_align(o.x, o.rois, {kOut}, kScale, 2, true);
    y.backward(o.grad);
    wait_for(o.x.grad());
  }
}

struct TorchTimes {
  double fwd = 0, fwd_bwd = 0, fwd_best = 0, fwd_bwd_best = 0, fwd_cpu = 0, fwd_bwd_cpu = 0;
  bool ok = false;
};

double number_after(const std::string& text, const char* key) {
  const size_t at = text.find(fmt::format("\"{}\": ", key));
  return at == std::string::npos ? 0.0 : std::stod(text.substr(at + std::strlen(key) + 4));
}

TorchTimes torch_times(const std::string& device, int64_t n, int64_t c, int64_t hw,
                       int64_t per_image, int64_t threads, int64_t reps) {
  const std::string spec = fmt::format(
      R"({{"device": "{}", "threads": {}, "n": {}, "c": {}, "hw": {}, "rois_per_image": {}, )"
      R"("size": {}, "scale": {}, "sampling": 2, "reps": {}}})",
      device, threads, n, c, hw, per_image, kOut, kScale, reps);
  const std::string script = osprey::bench::reference_script("torch_roi_align.py");
  // Debian's torch on the CPU machine; on the GPU machine the python3 on PATH has CUDA torch.
  const std::string python = device == "cpu" && std::filesystem::exists("/usr/bin/python3")
                                 ? "/usr/bin/python3"
                                 : "python3";
  const std::string cmd = fmt::format("{} '{}' '{}' 2>&1", python, script, spec);
  TorchTimes t;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return t;
  std::string text;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, got);
  pclose(pipe);
  if (text.find("fwdbwd_median_s") == std::string::npos) {
    std::printf("torchvision reference unavailable: %s\n", text.c_str());
    return t;
  }
  t.fwd = number_after(text, "fwd_median_s") * 1e3;
  t.fwd_bwd = number_after(text, "fwdbwd_median_s") * 1e3;
  t.fwd_best = number_after(text, "fwd_best_s") * 1e3;
  t.fwd_bwd_best = number_after(text, "fwdbwd_best_s") * 1e3;
  t.fwd_cpu = number_after(text, "fwd_cpu_median_s") * 1e3;
  t.fwd_bwd_cpu = number_after(text, "fwdbwd_cpu_median_s") * 1e3;
  t.ok = true;
  const size_t v = text.find("\"torchvision\": \"");
  std::printf(
      "torchvision %s (median of %lld runs)\n",
      v == std::string::npos ? "?" : text.substr(v + 16, text.find('"', v + 16) - v - 16).c_str(),
      static_cast<long long>(reps));
  return t;
}

}  // namespace

using osprey::bench::median;
using osprey::bench::RecordingReporter;
using osprey::bench::take_flag;

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  const std::string device = take_flag(argc, argv, "--device", std::string("cpu"));
  const bool cuda = device == "cuda";
  const int64_t n = take_flag(argc, argv, "--batch", cuda ? 8 : 2);
  const int64_t c = take_flag(argc, argv, "--channels", 1024);
  const int64_t hw = take_flag(argc, argv, "--size", 32);
  const int64_t per_image = take_flag(argc, argv, "--rois", cuda ? 512 : 256);
  const int64_t rounds = take_flag(argc, argv, "--rounds", 3);
  const int64_t torch_reps = take_flag(argc, argv, "--torch-reps", cuda ? 10 : 3);
  const int64_t threads = take_flag(argc, argv, "--threads", 2);
  const bool with_reference = take_flag(argc, argv, "--reference", std::string("1")) == "1";
  {
    osprey::autograd::NoGradGuard no_grad;
    osprey::ops::CaseRandom rng(1);
    const osprey::Device where = cuda ? osprey::Device::cuda() : osprey::Device::cpu();
    Operands& o = operands();
    o.x = rng.uniform({n, c, hw, hw}, osprey::DType::f32).to(where);
    o.rois = make_rois(n, per_image, static_cast<double>(hw) / kScale, 2).to(where);
    // K·C·14·14 values (3.3 GB on the GPU shape): a constant, not a host draw.
    o.grad = Tensor::empty({n * per_image, c, kOut, kOut}, osprey::DType::f32, where);
    o.grad.fill_(0.5);
  }
  operands().x.set_requires_grad();
  const std::string shape = fmt::format("{}x{}x{}x{}/{}rois", n, c, hw, hw, n * per_image);
  for (int64_t r = 0; r < rounds; ++r) {
    const std::string suffix = fmt::format("/{}/{}/round{}", device, shape, r);
    benchmark::RegisterBenchmark(("roi_align_fwd" + suffix).c_str(), bm_forward)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("roi_align_fwd_bwd" + suffix).c_str(), bm_forward_backward)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double fwd = median(reporter.times("roi_align_fwd"));
  const double fwd_bwd = median(reporter.times("roi_align_fwd_bwd"));
  const double fwd_cpu = median(cpu_times()["fwd"]), fwd_bwd_cpu = median(cpu_times()["fwd_bwd"]);
  std::printf(
      "\nroi_align_bench %s f32 %s, 14x14, sampling 2, aligned: ours fwd %.1f ms, "
      "fwd+bwd %.1f ms (median of %lld rounds); process CPU time fwd %.1f ms, fwd+bwd "
      "%.1f ms\n",
      device.c_str(), shape.c_str(), fwd, fwd_bwd, static_cast<long long>(rounds), fwd_cpu,
      fwd_bwd_cpu);
  if (with_reference) {
    const TorchTimes t = torch_times(device, n, c, hw, per_image, threads, torch_reps);
    if (t.ok) {
      std::printf(
          "torchvision fwd %.1f ms, fwd+bwd %.1f ms (%lld threads); process CPU time fwd "
          "%.1f ms, fwd+bwd %.1f ms\n",
          t.fwd, t.fwd_bwd, static_cast<long long>(threads), t.fwd_cpu, t.fwd_bwd_cpu);
      if (!cuda && fwd_cpu > 0 && fwd_bwd_cpu > 0) {
        std::printf("CPU-time ratio torch/ours: fwd %.2f, fwd+bwd %.2f\n", t.fwd_cpu / fwd_cpu,
                    t.fwd_bwd_cpu / fwd_bwd_cpu);
      }
      std::printf(
          "speed-up torch/ours (wall): median fwd %.2f, fwd+bwd %.2f; best fwd %.2f, fwd+bwd "
          "%.2f (goal: cpu >= 10 fwd+bwd; cuda fwd <= 2 ms, fwd+bwd <= 8 ms)\n",
          t.fwd / fwd, t.fwd_bwd / fwd_bwd,
          t.fwd_best / osprey::bench::best(reporter.times("roi_align_fwd")),
          t.fwd_bwd_best / osprey::bench::best(reporter.times("roi_align_fwd_bwd")));
    }
  }
  benchmark::Shutdown();
  return 0;
}
