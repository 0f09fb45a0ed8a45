// Problem names, the strict/repair dispatch and the shared box check.
#include "data/formats/read_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "framework/core/error.h"

namespace osprey::data {

ReadPolicy parse_read_policy(const std::string& name) {
  if (name == "strict") return ReadPolicy::strict;
  if (name == "repair") return ReadPolicy::repair;
  OSPREY_THROW(value, "unknown annotation policy '{}' (expected strict or repair)", name);
}

const char* problem_name(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::box_outside_image:
      return "box outside image";
    case ProblemKind::inverted_box:
      return "inverted box";
    case ProblemKind::empty_box:
      return "empty box";
    case ProblemKind::unknown_class:
      return "unknown class";
    case ProblemKind::missing_image:
      return "missing image file";
    case ProblemKind::missing_annotation:
      return "missing annotation";
    case ProblemKind::duplicate_image:
      return "duplicate image id";
    case ProblemKind::malformed_record:
      return "malformed record";
    case ProblemKind::split_image_group:
      return "image rows not contiguous";
    case ProblemKind::not_an_image:
      return "not an image file";
  }
  return "?";
}

const char* problem_action(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::box_outside_image:
      return "clipped (dropped when empty after clipping)";
    case ProblemKind::inverted_box:
    case ProblemKind::empty_box:
    case ProblemKind::unknown_class:
      return "object dropped";
    case ProblemKind::missing_image:
    case ProblemKind::missing_annotation:
      return "image dropped";
    case ProblemKind::duplicate_image:
      return "later image dropped";
    case ProblemKind::malformed_record:
      return "record dropped";
    case ProblemKind::split_image_group:
      return "rows delivered as a further group";
    case ProblemKind::not_an_image:
      return "file skipped";
  }
  return "?";
}

void ReadReport::flag(ReadPolicy policy, ProblemKind kind, const std::string& where,
                      const std::string& what) {
  if (policy == ReadPolicy::strict) {
    OSPREY_THROW(io, "{}: {}: {} (policy strict; 'repair' would have {})", where,
                 problem_name(kind), what, problem_action(kind));
  }
  int k = static_cast<int>(kind);
  ++counts_[k];
  if (static_cast<int>(examples_[k].size()) < examples_per_kind_) {
    examples_[k].push_back(where + ": " + what);
  }
}

int64_t ReadReport::total() const {
  int64_t sum = 0;
  for (int64_t c : counts_) sum += c;
  return sum;
}

void ReadReport::merge(const ReadReport& other) {
  for (int k = 0; k < kProblemKinds; ++k) {
    counts_[k] += other.counts_[k];
    for (const auto& e : other.examples_[k]) {
      if (static_cast<int>(examples_[k].size()) < examples_per_kind_) examples_[k].push_back(e);
    }
  }
}

std::string ReadReport::summary() const {
  if (total() == 0) return "no problems\n";
  std::string out;
  for (int k = 0; k < kProblemKinds; ++k) {
    if (counts_[k] == 0) continue;
    auto kind = static_cast<ProblemKind>(k);
    out += fmt::format("{}: {} ({})\n", problem_name(kind), counts_[k], problem_action(kind));
    for (const auto& e : examples_[k]) out += "    " + e + "\n";
  }
  return out;
}

bool check_box(Object& object, double width, double height, const ReadOptions& options,
               ReadReport& report, const std::string& where) {
  auto& b = object.box;
  if (b[2] < b[0] || b[3] < b[1]) {
    report.flag(options.policy, ProblemKind::inverted_box, where,
                fmt::format("box ({}, {}, {}, {}) has x2 < x1 or y2 < y1", b[0], b[1], b[2], b[3]));
    return false;
  }
  if (b[2] == b[0] || b[3] == b[1]) {
    report.flag(options.policy, ProblemKind::empty_box, where,
                fmt::format("box ({}, {}, {}, {}) has zero area", b[0], b[1], b[2], b[3]));
    return false;
  }
  if (width <= 0 || height <= 0) return true;
  auto w = static_cast<float>(width), h = static_cast<float>(height);
  if (b[0] < 0 || b[1] < 0 || b[2] > w || b[3] > h) {
    report.flag(options.policy, ProblemKind::box_outside_image, where,
                fmt::format("box ({}, {}, {}, {}) outside the {}x{} image", b[0], b[1], b[2], b[3],
                            width, height));
    b[0] = std::clamp(b[0], 0.0f, w);
    b[2] = std::clamp(b[2], 0.0f, w);
    b[1] = std::clamp(b[1], 0.0f, h);
    b[3] = std::clamp(b[3], 0.0f, h);
    if (b[2] <= b[0] || b[3] <= b[1]) return false;  // already counted as outside the image
  }
  return true;
}

}  // namespace osprey::data
