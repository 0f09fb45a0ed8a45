// GPU benchmarks, each measured against its hardware reference in the same run:
//   add_vs_memcpy: ops::add of 2^28 floats (3 GiB moved) against a cudaMemcpy device-to-device of
//                  1 GiB (2 GiB moved); reports both GB/s and add/memcpy (target >= 0.85).
//   sgemm:         8192^3 f32 matmul through the dispatcher (op "matmul", called by name so this
//                  builds before the op exists) against cublasSgemm directly (target >= 0.95).
// Times are CUDA-event times of the best iteration. Without a GPU (or a CUDA build) it prints a
// skip message and exits 0.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>

#include "framework/core/backend.h"
#include "framework/core/tensor.h"
#include "framework/core/thread_environment.h"
#include "framework/dispatch/registry.h"

#if defined(OSPREY_WITH_CUDA)
#include "framework/cuda/context.h"

namespace osprey {
namespace {

struct Summary {
  double add_gbps = 0, memcpy_gbps = 0;
  double osprey_tflops = 0, cublas_tflops = 0;
  bool sgemm_ran = false;
} summary;

void BM_AddVsMemcpy(benchmark::State& state) {
  const int64_t n = int64_t{1} << 28;
  const double bytes = static_cast<double>(n) * sizeof(float);
  Device gpu = Device::cuda();
  Tensor a = Tensor::empty({n}, DType::f32, gpu), b = Tensor::empty({n}, DType::f32, gpu);
  Tensor out = Tensor::empty({n}, DType::f32, gpu);
  a.fill_(1.0);
  b.fill_(2.0);
  dispatch::call_out("add", out, {a, b});  // warm-up
  cuda::Event start(true), mid(true), end(true);
  float best_add = 1e30f, best_copy = 1e30f;
  for (auto _ : state) {
    start.record();
    dispatch::call_out("add", out, {a, b});
    mid.record();
    OSPREY_CUDA_CHECK(cudaMemcpyAsync(out.raw_data(), a.raw_data(), static_cast<size_t>(bytes),
                                      cudaMemcpyDeviceToDevice, cuda::current_stream()));
    end.record();
    end.synchronize();
    float add_ms = start.elapsed_ms(mid), copy_ms = mid.elapsed_ms(end);
    best_add = std::min(best_add, add_ms);
    best_copy = std::min(best_copy, copy_ms);
    state.SetIterationTime(add_ms / 1e3);
  }
  summary.add_gbps = 3 * bytes / (best_add / 1e3) / 1e9;
  summary.memcpy_gbps = 2 * bytes / (best_copy / 1e3) / 1e9;
  state.counters["add_GBps"] = summary.add_gbps;
  state.counters["memcpy_GBps"] = summary.memcpy_gbps;
  state.counters["ratio"] = summary.add_gbps / summary.memcpy_gbps;
}
BENCHMARK(BM_AddVsMemcpy)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(20);

void BM_Sgemm(benchmark::State& state) {
  const int n = 8192;
  const double flops = 2.0 * n * n * static_cast<double>(n);
  if (!dispatch::Registry::instance().has_op("matmul")) {
    state.SkipWithError("op 'matmul' is not registered in this build");
    return;
  }
  Device gpu = Device::cuda();
  Tensor a = Tensor::empty({n, n}, DType::f32, gpu), b = Tensor::empty({n, n}, DType::f32, gpu);
  Tensor c = Tensor::empty({n, n}, DType::f32, gpu);
  a.fill_(0.5);
  b.fill_(0.25);
  try {
    dispatch::call("matmul", {a, b}, {}, {c});  // warm-up; also proves a CUDA kernel exists
  } catch (const Error& e) {
    state.SkipWithError(e.what());
    return;
  }
  std::string key = dispatch::last_kernel_key();
  cublasHandle_t handle = cuda::cublas_handle();
  const float alpha = 1.0f, beta = 0.0f;
  // Row-major C = A B is column-major C^T = B^T A^T.
  auto cublas = [&] {
    OSPREY_CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha,
                                    b.data<float>(), n, a.data<float>(), n, &beta, c.data<float>(),
                                    n));
  };
  cublas();
  cuda::Event start(true), mid(true), end(true);
  float best_osprey = 1e30f, best_cublas = 1e30f;
  for (auto _ : state) {
    start.record();
    dispatch::call("matmul", {a, b}, {}, {c});
    mid.record();
    cublas();
    end.record();
    end.synchronize();
    float osprey_ms = start.elapsed_ms(mid), cublas_ms = mid.elapsed_ms(end);
    best_osprey = std::min(best_osprey, osprey_ms);
    best_cublas = std::min(best_cublas, cublas_ms);
    state.SetIterationTime(osprey_ms / 1e3);
  }
  summary.sgemm_ran = true;
  summary.osprey_tflops = flops / (best_osprey / 1e3) / 1e12;
  summary.cublas_tflops = flops / (best_cublas / 1e3) / 1e12;
  state.SetLabel(key);
  state.counters["osprey_TFLOPS"] = summary.osprey_tflops;
  state.counters["cublas_TFLOPS"] = summary.cublas_tflops;
  state.counters["ratio"] = summary.osprey_tflops / summary.cublas_tflops;
}
BENCHMARK(BM_Sgemm)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(10);

void print_summary() {
  double add_ratio = summary.add_gbps / std::max(summary.memcpy_gbps, 1e-9);
  std::printf("\ngpu_bench summary (%s)\n", cuda::device_properties(0).name);
  std::printf(
      "  add 2^28 f32     %8.1f GB/s   memcpy D2D %8.1f GB/s   ratio %.3f  (target >= 0.85) %s\n",
      summary.add_gbps, summary.memcpy_gbps, add_ratio, add_ratio >= 0.85 ? "PASS" : "FAIL");
  if (summary.sgemm_ran) {
    double ratio = summary.osprey_tflops / std::max(summary.cublas_tflops, 1e-9);
    std::printf(
        "  sgemm 8192^3     %8.1f TFLOPS osprey      %8.1f TFLOPS cublas  ratio %.3f  (target >= "
        "0.95) %s\n",
        summary.osprey_tflops, summary.cublas_tflops, ratio, ratio >= 0.95 ? "PASS" : "FAIL");
  } else {
    std::printf("  sgemm 8192^3     skipped (no CUDA matmul kernel)\n");
  }
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  osprey::use_passive_openmp_wait(argv);
  if (!osprey::cuda_available()) {
    std::printf("gpu_bench: skipped, no CUDA device present\n");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  osprey::print_summary();
  return 0;
}

#else

int main() {
  std::printf("gpu_bench: skipped, Osprey was built without CUDA (-DOSPREY_CUDA=OFF)\n");
  return 0;
}

#endif
