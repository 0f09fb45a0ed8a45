// Folder-per-class and list-file classification sets.
#include "data/formats/classification.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "data/formats/mat_file.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;

bool has_image_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".gif";
}

namespace {

std::string strip_number_prefix(const std::string& name) {
  size_t digits = 0;
  while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
  if (digits > 0 && digits + 1 < name.size() && name[digits] == '.') return name.substr(digits + 1);
  return name;
}

bool parse_index(const std::string& s, int& value) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && p == s.data() + s.size() && value >= 0;
}

}  // namespace

DetectionDataset read_class_folders(const std::string& root, const ReadOptions& options,
                                    ReadReport& report) {
  OSPREY_CHECK_KIND(io, fs::is_directory(root), "class folders: {} is not a directory", root);
  DetectionDataset d;
  d.name = fs::path(root).lexically_normal().filename().string();
  d.root = root;
  std::vector<fs::path> folders, stray;
  for (const auto& entry : fs::directory_iterator(root)) {
    (entry.is_directory() ? folders : stray).push_back(entry.path());
  }
  std::sort(folders.begin(), folders.end());
  std::sort(stray.begin(), stray.end());
  for (const auto& file : stray) {
    report.flag(options.policy, ProblemKind::not_an_image, file.string(),
                "a file outside the class folders");
  }
  for (size_t c = 0; c < folders.size(); ++c) {
    d.class_names.push_back(strip_number_prefix(folders[c].filename().string()));
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(folders[c])) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (!has_image_extension(file.string())) {
        report.flag(options.policy, ProblemKind::not_an_image, file.string(),
                    "no image extension (.jpg, .jpeg, .png, .bmp, .gif)");
        continue;
      }
      AnnotatedImage image;
      image.id = file.lexically_relative(root).string();
      image.image_path = file.string();
      image.image_label = static_cast<int>(c);
      d.images.push_back(std::move(image));
    }
  }
  return d;
}

DetectionDataset read_class_list(const std::string& list_file, const std::string& image_root,
                                 const std::string& class_file, const ReadOptions& options,
                                 ReadReport& report) {
  struct Line {
    std::string path, label;
    int number;
  };
  std::ifstream file(list_file);
  OSPREY_CHECK_KIND(io, file.good(), "class list: cannot open {}", list_file);
  std::vector<Line> lines;
  std::string text;
  for (int number = 1; std::getline(file, text); ++number) {
    std::istringstream fields(text);
    std::string path, label, extra;
    if (!(fields >> path)) continue;  // blank line
    fields >> label;
    if (fields >> extra) {
      report.flag(options.policy, ProblemKind::malformed_record,
                  fmt::format("{}:{}", list_file, number), "expected \"path [label]\"");
      continue;
    }
    if (label.empty()) label = fs::path(path).parent_path().string();
    lines.push_back({path, label, number});
  }

  DetectionDataset d;
  d.name = fs::path(list_file).stem().string();
  d.root = image_root;
  std::unordered_map<std::string, int> index;
  bool by_index = false;
  if (!class_file.empty()) {
    std::ifstream classes(class_file);
    OSPREY_CHECK_KIND(io, classes.good(), "class list: cannot open class file {}", class_file);
    while (std::getline(classes, text)) {
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      if (text.empty()) continue;
      index.emplace(text, static_cast<int>(d.class_names.size()));
      d.class_names.push_back(text);
    }
  } else {
    int largest = -1, value = 0;
    by_index = !lines.empty();
    for (const Line& l : lines) {
      by_index = by_index && parse_index(l.label, value);
      largest = std::max(largest, value);
    }
    if (by_index) {
      for (int c = 0; c <= largest; ++c) d.class_names.push_back(std::to_string(c));
    } else {
      std::map<std::string, int> sorted;
      for (const Line& l : lines) sorted.emplace(l.label, 0);
      for (auto& [name, unused] : sorted) {
        index.emplace(name, static_cast<int>(d.class_names.size()));
        d.class_names.push_back(name);
      }
    }
  }

  for (const Line& l : lines) {
    std::string where = fmt::format("{}:{}", list_file, l.number);
    int label = -1;
    auto found = index.find(l.label);
    if (found != index.end()) {
      label = found->second;
    } else if (!parse_index(l.label, label) || label >= static_cast<int>(d.class_names.size())) {
      report.flag(
          options.policy, ProblemKind::unknown_class, where,
          fmt::format("label '{}' is not one of the {} classes", l.label, d.class_names.size()));
      continue;
    }
    AnnotatedImage image;
    std::string relative = l.path.front() == '/' ? l.path.substr(1) : l.path;
    image.id = relative;
    image.image_path = image_root.empty() ? relative : (fs::path(image_root) / relative).string();
    image.image_label = label;
    if (options.check_image_files && !fs::exists(image.image_path)) {
      report.flag(options.policy, ProblemKind::missing_image, where,
                  fmt::format("no file {}", image.image_path));
      continue;
    }
    d.images.push_back(std::move(image));
  }
  return d;
}

DetectionDataset read_flowers102(const std::string& root, const std::string& split,
                                 const ReadOptions& options, ReadReport& report) {
  std::string key = split == "train" ? "trn" : split == "test" ? "tst" : split;
  OSPREY_CHECK(key == "trn" || key == "val" || key == "tst",
               "Flowers-102: unknown split '{}' (trn/train, val, tst/test)", split);
  const fs::path base(root);
  std::string labels_path = (base / "imagelabels.mat").string();
  std::string setid_path = (base / "setid.mat").string();
  auto labels_file = read_mat_file(labels_path);
  auto setid_file = read_mat_file(setid_path);
  OSPREY_CHECK_KIND(io, labels_file.count("labels"), "Flowers-102: {} has no 'labels'",
                    labels_path);
  OSPREY_CHECK_KIND(io, setid_file.count(key + "id"), "Flowers-102: {} has no '{}id'", setid_path,
                    key);
  const std::vector<double>& labels = labels_file["labels"].values;
  constexpr int kClasses = 102;
  DetectionDataset d;
  d.name = "flowers102/" + key;
  d.root = root;
  for (int c = 1; c <= kClasses; ++c) d.class_names.push_back(std::to_string(c));
  for (double number : setid_file[key + "id"].values) {
    auto n = static_cast<int64_t>(number);
    std::string where = fmt::format("{}: {}id image {}", setid_path, key, number);
    if (n < 1 || n > static_cast<int64_t>(labels.size()) || double(n) != number) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  fmt::format("no such image among the {} labels", labels.size()));
      continue;
    }
    double label = labels[n - 1];
    if (label < 1 || label > kClasses || label != std::floor(label)) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  fmt::format("label {} outside 1..{}", label, kClasses));
      continue;
    }
    AnnotatedImage image;
    image.id = fmt::format("image_{:05d}", n);
    image.image_path = (base / "jpg" / (image.id + ".jpg")).string();
    image.image_label = static_cast<int>(label) - 1;
    if (options.check_image_files && !fs::exists(image.image_path)) {
      report.flag(options.policy, ProblemKind::missing_image, where,
                  fmt::format("no file {}", image.image_path));
      continue;
    }
    d.images.push_back(std::move(image));
  }
  return d;
}

}  // namespace osprey::data
