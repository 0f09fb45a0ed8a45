// nms beside torchvision.ops.nms, on the same boxes, in the same run. Boxes follow
// /work/shared/bench/cpu/bench_torch.py's nms anchor (corners in [0, 1000), sides in [10, 200),
// uniform scores, IoU 0.7), drawn here with a seeded mt19937 and handed to torchvision through
// .npy files (bench/reference/torch_nms.py, run with /usr/bin/python3), which also returns its
// kept indices: the bench checks that ours are identical.
//   CPU: every registered CPU kernel of nms (reference, bitmask) on --boxes (6000), torchvision
//        with torch.set_num_threads(--threads) (its nms kernel is single-threaded anyway).
//   GPU (when a CUDA device is present): cuda/bitmask on --gpu-boxes (12000), torchvision on CUDA.
// Prints median and best times over --reps calls and the speed-up torchvision time / ours.
//   ./build/bench/nms_bench [--threads=2] [--boxes=6000] [--gpu-boxes=12000] [--reps=20]
//                           [--iou=0.7] [--seed=0]
#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "framework/core/backend.h"
#include "framework/dispatch/registry.h"
#include "framework/io/npy.h"
#include "ops/nms/nms.h"

namespace {

using osprey::Device;
using osprey::DType;
using osprey::Tensor;

struct Timing {
  double median_s = 0, best_s = 0;
  int64_t kept = -1;
};

struct Problem {
  Tensor boxes, scores;
  std::string boxes_path, scores_path;
};

Problem make_problem(int64_t n, uint64_t seed, const std::string& dir) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> b(static_cast<size_t>(4 * n)), s(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float x = unit(gen) * 1000, y = unit(gen) * 1000;
    const float w = 10 + unit(gen) * 190, h = 10 + unit(gen) * 190;
    b[4 * i] = x, b[4 * i + 1] = y, b[4 * i + 2] = x + w, b[4 * i + 3] = y + h;
  }
  for (auto& v : s) v = unit(gen);
  Problem p{Tensor::from_vector<float>(b, {n, 4}), Tensor::from_vector<float>(s, {n}),
            fmt::format("{}/boxes_{}.npy", dir, n), fmt::format("{}/scores_{}.npy", dir, n)};
  osprey::io::write_npy(p.boxes_path, p.boxes);
  osprey::io::write_npy(p.scores_path, p.scores);
  return p;
}

Timing time_calls(int64_t reps, const std::function<Tensor()>& call,
                  const std::function<void()>& sync) {
  Timing t;
  t.kept = call().numel();  // warm-up
  sync();
  std::vector<double> times;
  for (int64_t r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    call();
    sync();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  t.median_s = osprey::bench::median(times);
  t.best_s = osprey::bench::best(times);
  return t;
}

// torchvision's time; its kept indices land in `keep_path`.
Timing torchvision_time(const Problem& p, const std::string& device, int64_t threads, double iou,
                        int64_t reps, const std::string& keep_path) {
  const std::string script = osprey::bench::reference_script("torch_nms.py");
  const std::string cmd =
      fmt::format("/usr/bin/python3 '{}' '{}' '{}' {} {} {} {} '{}' 2>&1", script, p.boxes_path,
                  p.scores_path, device, threads, iou, reps, keep_path);
  Timing t;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return t;
  std::string text;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, got);
  pclose(pipe);
  const size_t at = text.find("RESULT ");
  if (at == std::string::npos) {
    std::printf("torchvision reference failed: %s\n", text.c_str());
    return t;
  }
  auto field = [&](const char* key) {
    const size_t k = text.find(fmt::format("\"{}\": ", key), at);
    return std::stod(text.substr(k + std::strlen(key) + 4));
  };
  t.kept = static_cast<int64_t>(field("kept"));
  t.median_s = field("median_s");
  t.best_s = field("best_s");
  return t;
}

void report(const char* kernel, int64_t n, const Timing& ours, const Timing& ref, bool same) {
  std::printf(
      "%-16s %7lld boxes  kept %6lld  median %9.3f ms  best %9.3f ms  | torchvision "
      "median %9.3f ms  | speed-up x%.2f (median), x%.2f (best)  indices %s\n",
      kernel, static_cast<long long>(n), static_cast<long long>(ours.kept), ours.median_s * 1e3,
      ours.best_s * 1e3, ref.median_s * 1e3, ours.median_s > 0 ? ref.median_s / ours.median_s : 0.0,
      ours.best_s > 0 ? ref.best_s / ours.best_s : 0.0, same ? "identical" : "DIFFER");
}

}  // namespace

int main(int argc, char** argv) {
  using osprey::bench::take_flag;
  const int64_t threads = take_flag(argc, argv, "--threads", int64_t{2});
  const int64_t n_cpu = take_flag(argc, argv, "--boxes", int64_t{6000});
  const int64_t n_gpu = take_flag(argc, argv, "--gpu-boxes", int64_t{12000});
  const int64_t reps = take_flag(argc, argv, "--reps", int64_t{20});
  const double iou = std::stod(take_flag(argc, argv, "--iou", std::string("0.7")));
  const auto seed = static_cast<uint64_t>(take_flag(argc, argv, "--seed", int64_t{0}));
  omp_set_num_threads(static_cast<int>(threads));
  char dir_template[] = "/tmp/osprey_nms_bench_XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  auto& registry = osprey::dispatch::Registry::instance();

  std::printf("nms_bench: IoU %.2f, %lld threads, %lld reps (osprey) / %lld (torchvision)\n", iou,
              static_cast<long long>(threads), static_cast<long long>(reps),
              static_cast<long long>(reps));
  Problem cpu = make_problem(n_cpu, seed, dir);
  const std::string cpu_keep_path = dir + "/keep_cpu.npy";
  Timing ref = torchvision_time(cpu, "cpu", threads, iou, reps, cpu_keep_path);
  const std::vector<int64_t> ref_keep =
      ref.kept >= 0 ? osprey::io::read_npy(cpu_keep_path).to_vector<int64_t>()
                    : std::vector<int64_t>{};
  for (const auto* k : registry.kernels("nms", osprey::DeviceType::cpu)) {
    registry.set_override("nms", osprey::DeviceType::cpu, k->impl);
    const int64_t r = k->impl == "reference" ? std::max<int64_t>(3, reps / 4) : reps;
    Timing ours = time_calls(
        r, [&] { return osprey::ops::nms(cpu.boxes, cpu.scores, iou); }, [] {});
    bool same = osprey::ops::nms(cpu.boxes, cpu.scores, iou).to_vector<int64_t>() == ref_keep;
    report(fmt::format("cpu/{}", k->impl).c_str(), n_cpu, ours, ref, same);
  }
  registry.clear_override("nms", osprey::DeviceType::cpu);

  if (osprey::cuda_available()) {
    Problem gpu = make_problem(n_gpu, seed + 1, dir);
    const std::string gpu_keep_path = dir + "/keep_gpu.npy";
    Timing gref = torchvision_time(gpu, "cuda", threads, iou, reps * 5, gpu_keep_path);
    const std::vector<int64_t> gref_keep =
        gref.kept >= 0 ? osprey::io::read_npy(gpu_keep_path).to_vector<int64_t>()
                       : std::vector<int64_t>{};
    const Tensor boxes = gpu.boxes.to(Device::cuda()), scores = gpu.scores.to(Device::cuda());
    auto sync = [] { osprey::backend(osprey::DeviceType::cuda).synchronize(Device::cuda()); };
    Timing ours = time_calls(
        reps * 5, [&] { return osprey::ops::nms(boxes, scores, iou); }, sync);
    bool same = osprey::ops::nms(boxes, scores, iou).to_vector<int64_t>() == gref_keep;
    report("cuda/bitmask", n_gpu, ours, gref, same);
  } else {
    std::printf("cuda: skipped (no CUDA device)\n");
  }
  std::system(fmt::format("rm -rf '{}'", dir).c_str());
  return 0;
}
