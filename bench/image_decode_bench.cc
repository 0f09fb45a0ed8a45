// JPEG decoding speed against libjpeg-turbo's own command-line decoder, djpeg, over the same
// files in the same run. The files are VOC-sized (500×375) natural-looking synthetic images —
// smooth gradients, sensor-like noise and hard-edged shapes — encoded at quality 90 and written to
// a temporary directory. Osprey reads each file and decodes it to an RGB `Image`
// (data/image/codec.h) in this process; djpeg is started once per file (`djpeg [-scale 1/d]
// -outfile /dev/null FILE`).
//
// The measure is CPU time per image on one core (this thread's CPU clock; djpeg's from
// getrusage(RUSAGE_CHILDREN)), which a machine shared with other busy processes disturbs far less
// than wall time. djpeg's time includes starting a process, so the run also times djpeg on an 8×8
// JPEG and reports djpeg's time both as measured and with that start-up cost subtracted — the
// latter is the decoder-against-decoder comparison.
// `--files=a.jpg,b.jpg` times those JPEGs (e.g. real photos) instead of the synthetic set.
//   Usage: image_decode_bench [--images=N] [--rounds=R] [--files=LIST]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/synthetic_photo.h"
#include "data/detection/detection_transform.h"
#include "data/image/codec.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using osprey::bench::synthetic_photo;
using osprey::data::Image;

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

double children_cpu_seconds() {
  rusage usage;
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  double cpu = 0;  // seconds per image
  double wall = 0;
};

// Osprey: read + decode every file, best of `rounds` passes.
Timing time_osprey(const std::vector<std::string>& files, int denom, int rounds) {
  Timing best{1e9, 1e9};
  osprey::data::DecodeOptions options;
  options.scale_denom = denom;
  size_t checksum = 0;
  for (int r = 0; r < rounds; ++r) {
    const double c0 = thread_cpu_seconds(), w0 = wall_seconds();
    for (const std::string& f : files) checksum += osprey::data::read_image(f, options).pixels[7];
    best.cpu = std::min(best.cpu, (thread_cpu_seconds() - c0) / files.size());
    best.wall = std::min(best.wall, (wall_seconds() - w0) / files.size());
  }
  if (checksum == 1) std::printf(" ");  // keeps the decodes observable
  return best;
}

bool run_djpeg(const std::string& file, int denom) {
  std::string scale = "1/" + std::to_string(denom);
  std::vector<const char*> argv{"djpeg"};
  if (denom != 1) {
    argv.push_back("-scale");
    argv.push_back(scale.c_str());
  }
  for (const char* a : {"-outfile", "/dev/null", file.c_str()}) argv.push_back(a);
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, "djpeg", nullptr, nullptr, const_cast<char* const*>(argv.data()),
                   environ) != 0) {
    return false;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Timing time_djpeg(const std::vector<std::string>& files, int denom, int rounds) {
  Timing best{1e9, 1e9};
  for (int r = 0; r < rounds; ++r) {
    const double c0 = children_cpu_seconds(), w0 = wall_seconds();
    for (const std::string& f : files) {
      if (!run_djpeg(f, denom)) {
        std::fprintf(stderr, "djpeg failed on %s (is libjpeg-turbo-progs installed?)\n", f.c_str());
        std::exit(1);
      }
    }
    best.cpu = std::min(best.cpu, (children_cpu_seconds() - c0) / files.size());
    best.wall = std::min(best.wall, (wall_seconds() - w0) / files.size());
  }
  return best;
}

std::string string_flag(int argc, char** argv, const char* name) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return "";
}

// What a detection loader does after decoding, for scale: Faster R-CNN's VOC setting (shorter side
// 600, longer at most 1000, flip, BGR mean subtraction, pad to a multiple of 32) on the decoded
// images, CPU time per image.
void time_transform(const std::vector<std::string>& files, int rounds) {
  using namespace osprey::data;
  std::vector<DetectionSample> samples;
  for (const std::string& f : files) {
    samples.push_back(DetectionSample{read_image(f), {Object{{10, 20, 200, 300}, 1}}, {}});
  }
  DetectionTransform transform(DetectionTransformConfig{.short_sides = {600},
                                                        .max_side = 1000,
                                                        .flip = true,
                                                        .bgr = true,
                                                        .mean = {103.939f, 116.779f, 123.68f},
                                                        .pad_multiple = 32});
  // The fused pixel pass (the loader's) and the step-by-step reference path, same samples.
  auto time_path = [&](bool reference) {
    double best = 1e9;
    for (int r = 0; r < rounds; ++r) {
      const double c0 = thread_cpu_seconds();
      for (size_t i = 0; i < samples.size(); ++i) {
        const Image& image = samples[i].image;
        transform.apply(samples[i],
                        transform.choose(1, 0, static_cast<int64_t>(i), image.width, image.height),
                        reference);
      }
      best = std::min(best, (thread_cpu_seconds() - c0) / samples.size());
    }
    return best;
  };
  const double fused = time_path(false), reference = time_path(true);
  std::printf(
      "\ndetection transform after decoding (shorter side 600, max 1000, flip, BGR means, "
      "pad to 32): %.3f ms CPU per image fused, %.3f ms step by step (%.2fx)\n",
      fused * 1e3, reference * 1e3, reference / fused);
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

}  // namespace

int main(int argc, char** argv) {
  const int n_images = flag(argc, argv, "images", 40), rounds = flag(argc, argv, "rounds", 3);
  const fs::path dir =
      fs::temp_directory_path() / ("osprey_decode_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::vector<std::string> files;
  size_t bytes = 0;
  const std::string given = string_flag(argc, argv, "files");
  for (size_t start = 0; !given.empty() && start <= given.size();) {
    const size_t end = std::min(given.find(',', start), given.size());
    files.push_back(given.substr(start, end - start));
    bytes += fs::file_size(files.back());
    start = end + 1;
  }
  for (int i = 0; given.empty() && i < n_images; ++i) {
    const std::vector<uint8_t> jpeg = osprey::data::encode_jpeg(synthetic_photo(500, 375, i), 90);
    bytes += jpeg.size();
    files.push_back((dir / ("img" + std::to_string(i) + ".jpg")).string());
    osprey::data::write_file_bytes(files.back(), jpeg);
  }
  const std::string tiny = (dir / "tiny.jpg").string();
  osprey::data::write_file_bytes(tiny, osprey::data::encode_jpeg(synthetic_photo(8, 8, 99), 90));
  const std::vector<std::string> tiny_files(std::max<size_t>(files.size(), 20), tiny);

  if (given.empty()) {
    std::printf("%d JPEGs 500x375 q90", n_images);
  } else {
    const Image first = osprey::data::read_image(files[0]);
    std::printf("%zu given JPEGs (the first %dx%d)", files.size(), first.width, first.height);
  }
  std::printf(" (%.0f KB on average), best of %d rounds, CPU time per image on one core\n\n",
              bytes / 1024.0 / files.size(), rounds);
  const Timing startup = time_djpeg(tiny_files, 1, rounds);
  std::printf("djpeg start-up (8x8 JPEG): %.3f ms CPU, %.3f ms wall\n\n", startup.cpu * 1e3,
              startup.wall * 1e3);
  std::printf("%-6s %12s %12s %14s %16s %18s\n", "scale", "osprey ms", "osprey img/s", "djpeg ms",
              "djpeg-startup ms", "osprey / djpeg(-s)");
  for (int denom : {1, 2, 4, 8}) {
    const Timing ours = time_osprey(files, denom, rounds);
    const Timing theirs = time_djpeg(files, denom, rounds);
    const double net = theirs.cpu - startup.cpu;
    std::printf("1/%-4d %12.3f %12.1f %14.3f %16.3f %12.2fx (%.2fx)\n", denom, ours.cpu * 1e3,
                1.0 / ours.cpu, theirs.cpu * 1e3, net * 1e3, theirs.cpu / ours.cpu, net / ours.cpu);
  }
  std::printf(
      "\nratio > 1: Osprey is faster (djpeg time / Osprey time); the figure in parentheses "
      "is against djpeg with its start-up cost subtracted\n");
  time_transform(files, rounds);
  fs::remove_all(dir);
  return 0;
}
