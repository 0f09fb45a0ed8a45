// Throughput of the streaming OpenImages box reader (data/formats/openimages.h) on a generated
// file shaped like train-annotations-bbox.csv: 13 columns, 16-hex-digit ImageIDs, ~8.4 rows per
// image (14.6 M rows / 1.74 M images), 601 labels, Source/flags varying. Issue 5 asks for at least
// 1 M rows/s. The reference in the same run is CsvReader alone (lines split into fields, no
// parsing), the floor the reader cannot beat.
// Run: ./build/bench/openimages_csv_bench [--rows=3000000] [--file=/tmp/osprey_oi_bench.csv]
// The file is generated once and kept (about 100 bytes a row).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "bench/bench_support.h"
#include "data/formats/csv.h"
#include "data/formats/openimages.h"

namespace osprey::data {
namespace {

std::string g_file;
int64_t g_rows = 0;
OpenImagesClasses g_classes;
// Process CPU seconds per pass, besides the wall time: on the shared, overloaded dev machine the
// wall time mostly measures waiting for a core.
double g_split_cpu = 0, g_read_cpu = 0;

void generate(const std::string& path, int64_t rows) {
  for (int c = 0; c < 601; ++c) {
    g_classes.label_names.push_back(fmt::format("/m/0{:06x}", c * 7919));
    g_classes.display_names.push_back(fmt::format("class {}", c));
  }
  if (std::filesystem::exists(path)) return;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs(
      "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,"
      "IsDepiction,IsInside\n",
      f);
  uint64_t state = 88172645463325252ull;
  auto next = [&] {  // xorshift64
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int64_t image = 0;
  for (int64_t r = 0; r < rows; ++image) {
    int64_t n = 1 + static_cast<int64_t>(next() % 16);
    for (int64_t k = 0; k < n && r < rows; ++k, ++r) {
      uint64_t v = next();
      double x1 = (v % 500) / 1000.0, y1 = ((v >> 10) % 500) / 1000.0;
      double x2 = x1 + 0.001 + ((v >> 20) % 499) / 1000.0,
             y2 = y1 + 0.001 + ((v >> 30) % 499) / 1000.0;
      std::fprintf(f, "%016llx,%s,%s,1,%.6f,%.6f,%.6f,%.6f,%d,%d,%d,%d,%d\n",
                   static_cast<unsigned long long>(image * 2654435761ull),
                   v & 1 ? "xclick" : "activemil", g_classes.label_names[(v >> 40) % 601].c_str(),
                   x1, x2, y1, y2, int((v >> 50) & 1), int((v >> 51) & 1), int((v >> 52) % 7 == 0),
                   int((v >> 55) % 11 == 0), int((v >> 58) % 13 == 0));
    }
  }
  std::fclose(f);
}

void split_only(benchmark::State& state) {
  std::clock_t start = std::clock();
  for (auto _ : state) {
    CsvReader reader(g_file);
    std::vector<std::string_view> fields;
    bool ok = true;
    int64_t n = 0;
    while (reader.next(fields, ok)) n += static_cast<int64_t>(fields.size());
    benchmark::DoNotOptimize(n);
  }
  g_split_cpu = double(std::clock() - start) / CLOCKS_PER_SEC / double(state.iterations());
  state.SetItemsProcessed(state.iterations() * g_rows);
}

void for_each_image(benchmark::State& state) {
  int64_t images = 0, objects = 0;
  std::clock_t start = std::clock();
  for (auto _ : state) {
    ReadReport report;
    images = objects = 0;
    for_each_openimages_image(g_file, g_classes, {.check_image_files = false}, report,
                              [&](const AnnotatedImage& i) {
                                ++images;
                                objects += static_cast<int64_t>(i.objects.size());
                              });
  }
  g_read_cpu = double(std::clock() - start) / CLOCKS_PER_SEC / double(state.iterations());
  state.counters["images"] = static_cast<double>(images);
  state.counters["objects"] = static_cast<double>(objects);
  state.SetItemsProcessed(state.iterations() * g_rows);
}

BENCHMARK(split_only)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(for_each_image)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace osprey::data

int main(int argc, char** argv) {
  using namespace osprey;
  data::g_rows = bench::take_flag(argc, argv, "--rows", int64_t{3000000});
  data::g_file = bench::take_flag(argc, argv, "--file",
                                  fmt::format("/tmp/osprey_oi_bench_{}.csv", data::g_rows));
  data::generate(data::g_file, data::g_rows);
  benchmark::Initialize(&argc, argv);
  bench::RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double split_ms = bench::best(reporter.times("split_only"));
  double read_ms = bench::best(reporter.times("for_each_image"));
  std::printf(
      "%lld rows (mean of 3 passes): split only %.0f ms wall, %.0f ms CPU (%.2f M rows/s CPU); "
      "for_each_openimages_image %.0f ms wall, %.0f ms CPU (%.2f M rows/s CPU, %.2f M rows/s "
      "wall); CPU ratio %.2fx the split-only floor\n",
      static_cast<long long>(data::g_rows), split_ms, data::g_split_cpu * 1e3,
      data::g_rows / data::g_split_cpu / 1e6, read_ms, data::g_read_cpu * 1e3,
      data::g_rows / data::g_read_cpu / 1e6, data::g_rows / read_ms / 1e3,
      data::g_read_cpu / data::g_split_cpu);
  return 0;
}
