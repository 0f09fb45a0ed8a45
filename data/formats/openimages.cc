// The streaming OpenImages box reader: CsvReader's blocks, columns found by header name, labels
// looked up through a hash map with a one-entry cache (consecutive rows often share a label), and
// std::from_chars for the numbers.
#include "data/formats/openimages.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "data/formats/csv.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;

OpenImagesClasses read_openimages_classes(const std::string& csv_path) {
  CsvReader reader(csv_path);
  OpenImagesClasses classes;
  std::unordered_set<std::string> seen;
  std::vector<std::string_view> fields;
  bool ok = true;
  while (reader.next(fields, ok)) {
    OSPREY_CHECK_KIND(io, ok && fields.size() == 2 && !fields[0].empty(),
                      "{}:{}: expected \"LabelName,DisplayName\"", csv_path, reader.line());
    if (reader.line() == 1 && fields[0] == "LabelName") continue;
    OSPREY_CHECK_KIND(io, seen.emplace(fields[0]).second, "{}:{}: LabelName {} repeated", csv_path,
                      reader.line(), fields[0]);
    classes.label_names.emplace_back(fields[0]);
    classes.display_names.emplace_back(fields[1]);
  }
  OSPREY_CHECK_KIND(io, !classes.label_names.empty(), "{}: no classes", csv_path);
  return classes;
}

namespace {

enum Column {
  kImageId,
  kLabel,
  kXMin,
  kXMax,
  kYMin,
  kYMax,
  kConfidence,
  kOccluded,
  kTruncated,
  kGroupOf,
  kDepiction,
  kInside,
  kColumns
};
const char* const kColumnNames[kColumns] = {"ImageID",     "LabelName", "XMin",        "XMax",
                                            "YMin",        "YMax",      "Confidence",  "IsOccluded",
                                            "IsTruncated", "IsGroupOf", "IsDepiction", "IsInside"};
constexpr int kRequired = kYMax + 1;

bool parse_float(std::string_view s, float& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// "1" true, "0" or "-1" (unknown) false, an absent column false.
bool parse_flag(std::string_view s, bool& v) {
  v = s == "1";
  return v || s == "0" || s == "-1";
}

uint64_t hash_id(std::string_view id) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : id) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

int64_t read_groups(const std::string& csv_path, const OpenImagesClasses& classes,
                    const ReadOptions& options, ReadReport& report,
                    const std::function<void(const AnnotatedImage&)>& on_image,
                    const std::string& image_dir, bool report_splits) {
  CsvReader reader(csv_path);
  std::vector<std::string_view> fields;
  bool ok = true;
  OSPREY_CHECK_KIND(io, reader.next(fields, ok) && ok, "{}: no header line", csv_path);
  int column[kColumns];
  for (int c = 0; c < kColumns; ++c) {
    column[c] = -1;
    for (size_t f = 0; f < fields.size(); ++f) {
      if (fields[f] == kColumnNames[c]) column[c] = static_cast<int>(f);
    }
    OSPREY_CHECK_KIND(io, c >= kRequired || column[c] >= 0,
                      "{}: the header has no {} column (header: {})", csv_path, kColumnNames[c],
                      fmt::join(fields, ","));
  }
  const size_t field_count = fields.size();

  std::unordered_map<std::string, int> label_index;
  for (size_t i = 0; i < classes.label_names.size(); ++i) {
    label_index.emplace(classes.label_names[i], static_cast<int>(i));
  }
  std::string last_label;
  int last_index = -1;

  std::unordered_set<uint64_t> finished;
  finished.reserve(size_t(1) << 20);  // the real file has 1.74 M images; avoid early rehashes
  AnnotatedImage group;
  bool open = false, drop_group = false;
  auto close_group = [&] {
    if (open && !drop_group) on_image(group);
    if (open) finished.insert(hash_id(group.id));
    open = false;
  };

  int64_t rows = 0;
  while (reader.next(fields, ok)) {
    ++rows;
    auto where = [&] { return fmt::format("{}:{}", csv_path, reader.line()); };
    if (!ok || fields.size() != field_count || fields[column[kImageId]].empty()) {
      report.flag(options.policy, ProblemKind::malformed_record, where(),
                  !ok ? "bad quoting"
                  : fields.size() != field_count
                      ? fmt::format("{} fields, the header has {}", fields.size(), field_count)
                      : std::string("empty ImageID"));
      continue;
    }
    std::string_view id = fields[column[kImageId]];
    if (!open || id != group.id) {
      close_group();
      group.id.assign(id);
      group.objects.clear();
      group.normalized_boxes = true;
      group.image_path = image_dir.empty() ? "" : (fs::path(image_dir) / (group.id + ".jpg"));
      open = true;
      drop_group = false;
      if (!finished.empty() && finished.count(hash_id(id)) && report_splits) {
        report.flag(options.policy, ProblemKind::split_image_group, where(),
                    fmt::format("rows of ImageID {} resume after other images' rows", id));
      }
      if (options.check_image_files && !image_dir.empty() && !fs::exists(group.image_path)) {
        report.flag(options.policy, ProblemKind::missing_image, where(),
                    fmt::format("no file {}", group.image_path));
        drop_group = true;
      }
    }
    if (drop_group) continue;

    std::string_view label = fields[column[kLabel]];
    if (label != last_label) {
      last_label.assign(label);
      auto found = label_index.find(last_label);
      last_index = found == label_index.end() ? -1 : found->second;
    }
    if (last_index < 0) {
      report.flag(options.policy, ProblemKind::unknown_class, where(),
                  fmt::format("LabelName {} is not in the class descriptions", label));
      continue;
    }
    Object object;
    object.class_id = last_index;
    float x1, x2, y1, y2, confidence;
    bool numbers = parse_float(fields[column[kXMin]], x1) &&
                   parse_float(fields[column[kXMax]], x2) &&
                   parse_float(fields[column[kYMin]], y1) && parse_float(fields[column[kYMax]], y2);
    bool flags =
        (column[kConfidence] < 0 || parse_float(fields[column[kConfidence]], confidence)) &&
        (column[kOccluded] < 0 || parse_flag(fields[column[kOccluded]], object.occluded)) &&
        (column[kTruncated] < 0 || parse_flag(fields[column[kTruncated]], object.truncated)) &&
        (column[kGroupOf] < 0 || parse_flag(fields[column[kGroupOf]], object.group_of)) &&
        (column[kDepiction] < 0 || parse_flag(fields[column[kDepiction]], object.depiction)) &&
        (column[kInside] < 0 || parse_flag(fields[column[kInside]], object.inside));
    if (!numbers || !flags) {
      report.flag(options.policy, ProblemKind::malformed_record, where(),
                  !numbers ? "non-numeric XMin/XMax/YMin/YMax"
                           : "non-numeric Confidence or an Is* flag not 0, 1 or -1");
      continue;
    }
    object.difficult = object.group_of;
    object.box = {x1, y1, x2, y2};
    // The common case is checked inline: formatting `where` for every row would cost more than
    // parsing it.
    bool inside = x1 >= 0 && y1 >= 0 && x2 <= 1 && y2 <= 1 && x1 < x2 && y1 < y2;
    if (!inside && !check_box(object, 1.0, 1.0, options, report, where())) continue;
    group.objects.push_back(object);
  }
  close_group();
  return rows;
}

}  // namespace

int64_t for_each_openimages_image(const std::string& boxes_csv, const OpenImagesClasses& classes,
                                  const ReadOptions& options, ReadReport& report,
                                  const std::function<void(const AnnotatedImage&)>& on_image,
                                  const std::string& image_dir) {
  return read_groups(boxes_csv, classes, options, report, on_image, image_dir, true);
}

DetectionDataset read_openimages(const std::string& boxes_csv, const OpenImagesClasses& classes,
                                 const ReadOptions& options, ReadReport& report,
                                 const std::string& image_dir) {
  DetectionDataset d;
  d.name = fs::path(boxes_csv).stem().string();
  d.root = image_dir;
  d.class_names = classes.display_names;
  std::unordered_map<std::string, size_t> index;
  read_groups(
      boxes_csv, classes, options, report,
      [&](const AnnotatedImage& image) {
        auto [it, added] = index.emplace(image.id, d.images.size());
        if (added) {
          d.images.push_back(image);
        } else {
          auto& objects = d.images[it->second].objects;
          objects.insert(objects.end(), image.objects.begin(), image.objects.end());
        }
      },
      image_dir, false);
  return d;
}

}  // namespace osprey::data
