// How the dataset readers (data/formats/*) treat annotation problems, and what they report.
//
// Every reader checks what it reads (boxes inside the image and not inverted, known classes,
// image files present, well-formed XML/JSON/CSV records) and hands each problem to one policy the
// caller chooses:
//   strict  the first problem is an io error naming the file, the line or object, and the problem;
//   repair  the problem is fixed (a box is clipped) or the object, image or line is dropped, and
//           counted in a ReadReport by kind with the first few examples.
// Nothing is dropped silently: a repair always leaves a count in the report, and the action taken
// for each kind is fixed (problem_action()).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/detection/annotation.h"

namespace osprey::data {

enum class ReadPolicy { strict, repair };

// Parses "strict" or "repair" (anything else is a value error listing both).
ReadPolicy parse_read_policy(const std::string& name);

enum class ProblemKind {
  box_outside_image,   // repair: the box is clipped to the image (dropped when nothing is left)
  inverted_box,        // x2 < x1 or y2 < y1; repair: the object is dropped
  empty_box,           // zero width or height; repair: the object is dropped
  unknown_class,       // a class name or id not in the class list; repair: the object is dropped
  missing_image,       // the image (or mask) file does not exist; repair: the image is dropped
  missing_annotation,  // an id listed in a split file has no annotation file; repair: dropped
  duplicate_image,     // an image id seen before; repair: the later one is dropped
  malformed_record,    // unparsable XML file, JSON entry or CSV line; repair: the record is dropped
  split_image_group,   // OpenImages rows of one ImageID not contiguous; repair: see openimages.h
  not_an_image,        // a file without an image extension in a class folder; repair: skipped
};
inline constexpr int kProblemKinds = 10;

const char* problem_name(ProblemKind kind);
const char* problem_action(ProblemKind kind);  // what repair does, for the report

struct ReadOptions {
  ReadPolicy policy = ReadPolicy::strict;
  bool check_image_files = true;  // missing_image needs one stat() per image; off for speed
};

class ReadReport {
 public:
  // Under strict, throws an io error "<where>: <problem name>: <what>"; under repair, counts it.
  void flag(ReadPolicy policy, ProblemKind kind, const std::string& where, const std::string& what);
  void set_examples_per_kind(int n) { examples_per_kind_ = n; }  // default 3

  int64_t count(ProblemKind kind) const { return counts_[static_cast<int>(kind)]; }
  int64_t total() const;
  const std::vector<std::string>& examples(ProblemKind kind) const {
    return examples_[static_cast<int>(kind)];
  }
  // Adds another report's counts and (up to the limit) examples.
  void merge(const ReadReport& other);
  // "no problems", or one line per kind: count, action, then the examples indented.
  std::string summary() const;

 private:
  std::array<int64_t, kProblemKinds> counts_{};
  std::array<std::vector<std::string>, kProblemKinds> examples_;
  int examples_per_kind_ = 3;
};

// Checks one object's box against an image of width × height (0: unknown, then only inversion
// and emptiness are checked; callers pass 1 × 1 for normalized boxes). Returns false when the
// object must be dropped; clips the box in place under repair. `where` names file and object.
bool check_box(Object& object, double width, double height, const ReadOptions& options,
               ReadReport& report, const std::string& where);

}  // namespace osprey::data
