#include "experiments/train/metrics_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "framework/core/error.h"

namespace osprey::experiments {
namespace {

namespace fs = std::filesystem;

// JSON has no NaN or infinity: they are written as null (the CSV keeps "nan"/"inf").
std::string json_number(double value) {
  return std::isfinite(value) ? fmt::format("{:.17g}", value) : "null";
}

// The iteration a CSV row or a JSONL line starts with; -1 for the header or a malformed line.
int64_t leading_iteration(const std::string& line) {
  std::string_view text = line;
  constexpr std::string_view kJsonKey = "{\"iteration\":";
  if (text.starts_with(kJsonKey)) text.remove_prefix(kJsonKey.size());
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  int64_t value = 0;
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    value = value * 10 + (text[digits] - '0');
    ++digits;
  }
  return digits == 0 ? -1 : value;
}

void truncate_file(const fs::path& path, int64_t iteration) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::vector<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    int64_t it = leading_iteration(line);
    if (it <= iteration) kept.push_back(line);  // the header has -1
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  for (const auto& line : kept) out << line << "\n";
  OSPREY_CHECK_KIND(io, out.good(), "cannot rewrite metrics file {}", path.string());
}

}  // namespace

MetricsWriter::MetricsWriter(const std::string& run_dir, std::vector<std::string> columns)
    : columns_(std::move(columns)) {
  fs::path csv_path = fs::path(run_dir) / "metrics.csv";
  bool fresh = !fs::exists(csv_path) || fs::file_size(csv_path) == 0;
  csv_.open(csv_path, std::ios::app);
  jsonl_.open(fs::path(run_dir) / "metrics.jsonl", std::ios::app);
  OSPREY_CHECK_KIND(io, csv_.good() && jsonl_.good(),
                    "cannot open metrics.csv / metrics.jsonl for writing in {}", run_dir);
  if (fresh) {
    csv_ << "iteration";
    for (const auto& c : columns_) csv_ << "," << c;
    csv_ << "\n" << std::flush;
  }
}

void MetricsWriter::write(const MetricsRecord& record) {
  for (const auto& [name, value] : record.values) {
    OSPREY_CHECK(std::find(columns_.begin(), columns_.end(), name) != columns_.end(),
                 "metrics: '{}' is not one of the columns", name);
  }
  std::string csv = fmt::format("{}", record.iteration);
  std::string json = fmt::format("{{\"iteration\": {}", record.iteration);
  for (const auto& column : columns_) {
    auto it = record.values.find(column);
    csv += ",";
    if (it == record.values.end()) continue;
    csv += fmt::format("{:.17g}", it->second);
    json += fmt::format(", \"{}\": {}", column, json_number(it->second));
  }
  csv_ << csv << "\n" << std::flush;
  jsonl_ << json << "}\n" << std::flush;
  OSPREY_CHECK_KIND(io, csv_.good() && jsonl_.good(), "writing metrics failed");
}

void MetricsWriter::truncate_after(const std::string& run_dir, int64_t iteration) {
  truncate_file(fs::path(run_dir) / "metrics.csv", iteration);
  truncate_file(fs::path(run_dir) / "metrics.jsonl", iteration);
}

std::vector<MetricsRecord> read_metrics_jsonl(const std::string& path) {
  std::ifstream in(path);
  OSPREY_CHECK_KIND(io, in.good(), "cannot read metrics file {}", path);
  std::vector<MetricsRecord> records;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    // The writer's own flat format: {"iteration": N, "name": value, ...}.
    OSPREY_CHECK_KIND(io, line.front() == '{' && line.back() == '}', "{}:{}: not a JSON object",
                      path, line_number);
    MetricsRecord record;
    record.iteration = leading_iteration(line);
    std::string body = line.substr(1, line.size() - 2);
    std::stringstream fields(body);
    for (std::string field; std::getline(fields, field, ',');) {
      auto colon = field.find(':');
      OSPREY_CHECK_KIND(io, colon != std::string::npos, "{}:{}: bad field '{}'", path, line_number,
                        field);
      auto q1 = field.find('"'), q2 = field.find('"', q1 + 1);
      std::string name = field.substr(q1 + 1, q2 - q1 - 1);
      std::string value = field.substr(colon + 1);
      if (name == "iteration") continue;
      record.values[name] = value.find("null") != std::string::npos ? NAN : std::stod(value);
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace osprey::experiments
