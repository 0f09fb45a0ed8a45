// The detection loader against the decoder it is built on (issue 5's loader goal): the raw decode
// rate of VOC-sized JPEGs on 2 threads against DetectionLoader with 2 workers running a VOC-like
// pipeline — decode, resize to shorter side 600 (longer at most 1000), random flip, BGR mean
// subtraction, collate batches of 2 padded to a multiple of 32 — printing loader rate / decode
// rate (goal >= 0.8), then the same loader in the transform's u8_images mode (8-bit RGB batches,
// no CPU normalisation) against the same decode rate, with the CPU cost of normalise_batch per
// image measured on its own (on a GPU it runs there instead), then the f32 loader's peak resident
// memory at several prefetch depths.
//
// Each measurement runs in a forked child so that its peak RSS (getrusage ru_maxrss) is its own.
// A loader pass is one epoch of one loader kept across passes. Rates are images per second of wall
// time, best of `rounds` passes; the CPU time per image is
// printed too, because on a machine shared with other busy processes wall time is noisy.
// The images are synthetic (bench/synthetic_photo.h), 500×375, JPEG quality 90.
//
// --only=resize instead times the resize pass alone on one thread (data/detection/
// resize_normalise.h): 500×375 → 800×600 on a 608×800 canvas, flipped every other image, u8 and
// f32 output, each variant (scalar, avx512 when the CPU has it), ms per image, best of `rounds`
// passes of `images` images, next to the decode of the same JPEG.
// --only=loader stops after the two loader rates (no normalise_batch, no prefetch sweep).
//   Usage: data_pipeline_bench [--images=N] [--rounds=R] [--workers=W] [--only=resize|loader]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/synthetic_photo.h"
#include "data/detection/detection_loader.h"
#include "data/detection/normalise_batch.h"
#include "data/detection/resize_normalise.h"
#include "data/image/codec.h"

namespace {

namespace fs = std::filesystem;
using namespace osprey::data;

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double process_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

struct Result {
  double images_per_second = 0;  // wall
  double cpu_ms_per_image = 0;   // all threads of the process
  double peak_rss_mib = 0;
};

// Runs the pass that `make_pass()` returns (it processes `images` images) `rounds` times in a
// forked child and reports the best pass and the child's peak RSS.
template <typename MakePass>
Result in_child(int rounds, int images, const MakePass& make_pass) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Result r;
    double best_wall = 1e9, best_cpu = 1e9;
    auto pass = make_pass();
    for (int i = 0; i < rounds; ++i) {
      const double w0 = wall_seconds(), c0 = process_cpu_seconds();
      pass();
      best_wall = std::min(best_wall, wall_seconds() - w0);
      best_cpu = std::min(best_cpu, process_cpu_seconds() - c0);
    }
    rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    r.images_per_second = images / best_wall;
    r.cpu_ms_per_image = best_cpu / images * 1e3;
    r.peak_rss_mib = usage.ru_maxrss / 1024.0;
    if (write(fds[1], &r, sizeof r) != sizeof r) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  Result r;
  const bool ok = read(fds[0], &r, sizeof r) == sizeof r;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "a benchmark child failed\n");
    std::exit(1);
  }
  return r;
}

int flag(int argc, char** argv, const char* name, int fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atoi(argv[i] + prefix.size());
    }
  }
  return fallback;
}

bool has_flag(int argc, char** argv, const char* text) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], text) == 0) return true;
  return false;
}

// Best wall time of `rounds` runs of fn(i) for i < n, in ms per call.
template <typename Fn>
double ms_per_call(int rounds, int n, const Fn& fn) {
  double best = 1e9;
  for (int r = 0; r < rounds; ++r) {
    const double t0 = wall_seconds();
    for (int i = 0; i < n; ++i) fn(i);
    best = std::min(best, wall_seconds() - t0);
  }
  return best / n * 1e3;
}

int resize_only(int n, int rounds) {
  const std::vector<uint8_t> jpeg = encode_jpeg(osprey::bench::synthetic_photo(500, 375, 0), 90);
  const Image image = decode_image(jpeg);
  const int ow = 800, oh = 600, canvas_w = 800, canvas_h = 608;
  std::vector<uint8_t> u8(size_t(3) * canvas_h * canvas_w);
  std::vector<float> f32(u8.size());
  ChannelNormalise normalise;
  for (int c = 0; c < 3; ++c) {
    normalise.source_channel[c] = 2 - c;
    normalise.mean[c] = 100.0f + c;
  }
  std::printf(
      "resize pass alone, 500x375 -> 800x600 on a 608x800 canvas, 1 thread, best of %d x %d\n",
      rounds, n);
  const double decode = ms_per_call(rounds, n, [&](int) {
    if (decode_image(jpeg).pixels[5] == 1) std::printf(" ");
  });
  std::printf("  %-34s %8.3f ms/image\n", "decode_image (the same JPEG)", decode);
  std::vector<std::pair<const char*, ResizePath>> paths{{"scalar", ResizePath::scalar}};
  if (resize_avx512_available()) paths.push_back({"avx512", ResizePath::avx512});
  double first_u8 = 0, first_f32 = 0;
  for (const auto& [name, path] : paths) {
    const double t_u8 = ms_per_call(rounds, n, [&](int i) {
      resize_flip_u8(image, 0, 0, 500, 375, ow, oh, i % 2 == 1, canvas_h, canvas_w, u8.data(),
                     path);
    });
    const double t_f32 = ms_per_call(rounds, n, [&](int i) {
      resize_flip_normalise(image, 0, 0, 500, 375, ow, oh, i % 2 == 1, normalise, canvas_h,
                            canvas_w, f32.data(), path);
    });
    if (first_u8 == 0) first_u8 = t_u8, first_f32 = t_f32;
    std::printf("  %-8s resize_flip_u8        %8.3f ms/image (%.2fx scalar)\n", name, t_u8,
                first_u8 / t_u8);
    std::printf("  %-8s resize_flip_normalise %8.3f ms/image (%.2fx scalar)\n", name, t_f32,
                first_f32 / t_f32);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = flag(argc, argv, "images", 64), rounds = flag(argc, argv, "rounds", 3);
  if (has_flag(argc, argv, "--only=resize")) return resize_only(n, rounds);
  const int workers = flag(argc, argv, "workers", 2);
  const fs::path dir =
      fs::temp_directory_path() / ("osprey_pipeline_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  DetectionDataset dataset{"synthetic-voc", dir.string(), {"thing"}, {}};
  for (int i = 0; i < n; ++i) {
    const std::string name = "img" + std::to_string(i) + ".jpg";
    write_file_bytes((dir / name).string(),
                     encode_jpeg(osprey::bench::synthetic_photo(500, 375, i), 90));
    dataset.images.push_back(
        AnnotatedImage{name, name, 500, 375, {Object{{40, 30, 300, 200}, 0}}, ""});
  }
  auto source = std::make_shared<const FileDetectionSource>(dataset);
  const DetectionTransformConfig voc{.short_sides = {600},
                                     .max_side = 1000,
                                     .flip = true,
                                     .bgr = true,
                                     .mean = {103.939f, 116.779f, 123.68f},
                                     .pad_multiple = 32};

  // Raw decode: `workers` threads read and decode interleaved files.
  const Result decode = in_child(rounds, n, [&] {
    return [&] {
      std::vector<std::thread> threads;
      for (int t = 0; t < workers; ++t) {
        threads.emplace_back([&, t] {
          for (int i = t; i < n; i += workers) {
            const Image image = read_image((dir / dataset.images[i].image_path).string());
            if (image.pixels[7] == 1) std::printf(" ");
          }
        });
      }
      for (std::thread& thread : threads) thread.join();
    };
  });
  DetectionTransformConfig voc_u8 = voc;
  voc_u8.u8_images = true;
  auto loader_pass = [&](int64_t prefetch, const DetectionTransformConfig& config) {
    // One loader, one epoch per pass: the steady state of training, threads and blocks warm.
    return in_child(rounds, n, [&] {
      auto loader = std::make_shared<DetectionLoader>(
          source, DetectionTransform(config),
          LoaderConfig{.batch_size = 2, .workers = workers, .prefetch = prefetch, .seed = 1});
      return [loader] {
        double sum = 0;
        while (auto batch = loader->next()) {
          sum += batch->images.dtype() == osprey::DType::u8 ? batch->images.data<uint8_t>()[0]
                                                            : batch->images.data<float>()[0];
        }
        if (sum == 1.5) std::printf(" ");
      };
    });
  };
  const Result loader = loader_pass(0, voc);
  const Result loader_u8 = loader_pass(0, voc_u8);
  // normalise_batch on the CPU over u8 batches of the loader's shape (2×3×608×800: 500×375 at
  // shorter side 600, padded to 32), `n` images per pass, on the calling thread.
  const bool loader_only = has_flag(argc, argv, "--only=loader");
  const Result normalise = loader_only ? Result{} : in_child(rounds, n, [&] {
    auto loader = std::make_shared<DetectionLoader>(
        source, DetectionTransform(voc_u8), LoaderConfig{.batch_size = 2, .workers = 0, .seed = 1});
    auto batch = std::make_shared<DetectionBatch>(*loader->next());
    return [batch, voc_u8, n] {
      float sum = 0;
      for (int i = 0; i < n; i += 2) {
        sum += normalise_batch(batch->images, voc_u8, batch->image_sizes).data<float>()[0];
      }
      if (sum == 1.5f) std::printf(" ");
    };
  });
  std::printf("%d synthetic VOC-sized JPEGs (500x375, q90), best of %d passes, %d threads\n", n,
              rounds, workers);
  std::printf("%-44s %10s %14s %12s\n", "", "images/s", "CPU ms/image", "peak RSS MiB");
  std::printf("%-44s %10.1f %14.3f %12.1f\n", "raw decode", decode.images_per_second,
              decode.cpu_ms_per_image, decode.peak_rss_mib);
  std::printf("%-44s %10.1f %14.3f %12.1f\n", "loader (decode+resize+flip+norm+collate b2)",
              loader.images_per_second, loader.cpu_ms_per_image, loader.peak_rss_mib);
  std::printf("loader / raw decode: %.2f of the rate (goal >= 0.8); by CPU time per image %.2f\n",
              loader.images_per_second / decode.images_per_second,
              decode.cpu_ms_per_image / loader.cpu_ms_per_image);
  std::printf("%-44s %10.1f %14.3f %12.1f\n", "loader u8 (decode+resize+flip+collate b2)",
              loader_u8.images_per_second, loader_u8.cpu_ms_per_image, loader_u8.peak_rss_mib);
  std::printf(
      "u8 loader / raw decode: %.2f of the rate (goal >= 0.8); by CPU time per image %.2f\n",
      loader_u8.images_per_second / decode.images_per_second,
      decode.cpu_ms_per_image / loader_u8.cpu_ms_per_image);
  if (loader_only) {
    fs::remove_all(dir);
    return 0;
  }
  std::printf("%-44s %10.1f %14.3f\n", "normalise_batch on the CPU (ops, not in above)",
              normalise.images_per_second, normalise.cpu_ms_per_image);
  std::printf(
      "  (the u8 batches still need normalise_batch: on the GPU after the upload, or the\n"
      "   CPU cost above per image when training on the CPU)\n\n");
  std::printf("peak RSS against the prefetch depth (batches in flight at most, batch 2):\n");
  for (int64_t depth : {2, 4, 8, 16}) {
    const Result r = loader_pass(depth, voc);
    std::printf("  prefetch %2lld: %7.1f MiB  (%.1f images/s)\n", static_cast<long long>(depth),
                r.peak_rss_mib, r.images_per_second);
  }
  fs::remove_all(dir);
  return 0;
}
