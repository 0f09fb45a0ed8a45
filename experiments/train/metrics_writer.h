// The metrics of a run, written as they are produced to two files in the run directory:
// `metrics.csv` (a header, then one row per record; a column a record lacks is left empty) and
// `metrics.jsonl` (one JSON object per record holding only the values it has). Both open in
// append mode, so a resumed run continues the same files; `truncate_after` first drops the rows a
// killed run wrote after its last checkpoint, so the files hold each iteration once.
//
// Values are written with 17 significant digits: a double read back is the double written.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace osprey::experiments {

// One row: "iteration" is required; other values by column name.
struct MetricsRecord {
  int64_t iteration = 0;
  std::map<std::string, double> values;
};

class MetricsWriter {
 public:
  // `columns` after "iteration", in order; a record's value for another name is an error.
  MetricsWriter(const std::string& run_dir, std::vector<std::string> columns);
  void write(const MetricsRecord& record);
  const std::vector<std::string>& columns() const { return columns_; }

  // Drops the rows of both files whose iteration is above `iteration` (a missing file is fine).
  static void truncate_after(const std::string& run_dir, int64_t iteration);

 private:
  std::vector<std::string> columns_;
  std::ofstream csv_;
  std::ofstream jsonl_;
};

// The JSONL lines of a run directory parsed back (tests, tools): iteration and values.
std::vector<MetricsRecord> read_metrics_jsonl(const std::string& path);

}  // namespace osprey::experiments
