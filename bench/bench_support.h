// Helpers the benchmark programs share: our own `--flag=value` options taken out of argv before
// Google Benchmark parses the rest, a reporter that keeps every round's time by benchmark family,
// and the statistics the summaries print.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace osprey::bench {

// Removes and returns the value of `--flag=value` from argv, or `fallback`.
inline std::string take_flag(int& argc, char** argv, const char* flag,
                             const std::string& fallback) {
  const size_t len = std::strlen(flag);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], flag, len) == 0 && argv[i][len] == '=') {
      std::string value = argv[i] + len + 1;
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      return value;
    }
  }
  return fallback;
}

inline int64_t take_flag(int& argc, char** argv, const char* flag, int64_t fallback) {
  return std::stoll(take_flag(argc, argv, flag, std::to_string(fallback)));
}

// bench/reference/<name>: the PyTorch reference scripts, found from any working directory.
inline std::string reference_script(const std::string& name) {
  return std::string(OSPREY_SOURCE_DIR) + "/bench/reference/" + name;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

inline double best(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

// Keeps each round's time per iteration, by benchmark family (the name up to the first '/'),
// besides printing as usual.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      std::string name = run.benchmark_name();
      times_[name.substr(0, name.find('/'))].push_back(run.GetAdjustedRealTime());
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const std::vector<double>& times(const std::string& family) { return times_[family]; }

 private:
  std::map<std::string, std::vector<double>> times_;
};

}  // namespace osprey::bench
