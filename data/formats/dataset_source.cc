// Format detection from the files a layout must have, and dispatch to the readers.
#include "data/formats/dataset_source.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "data/formats/classification.h"
#include "data/formats/coco.h"
#include "data/formats/imagenet_loc.h"
#include "data/formats/openimages.h"
#include "data/formats/voc.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;

const std::vector<std::string>& dataset_formats() {
  static const std::vector<std::string> formats = {
      "voc", "coco", "openimages", "imagenet-loc", "flowers102", "folders", "list"};
  return formats;
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Files in `dir` whose names end in `suffix` (and start with `prefix`), sorted.
std::vector<fs::path> files_matching(const fs::path& dir, const std::string& prefix,
                                     const std::string& suffix) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind(prefix, 0) == 0 && ends_with(name, suffix)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_synset_tree(const fs::path& dir) {
  static const std::regex synset("n[0-9]{8}");
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && std::regex_match(e.path().filename().string(), synset) &&
        !files_matching(e.path(), "", ".xml").empty()) {
      return true;
    }
  }
  return false;
}

bool has_class_folders(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(e.path())) {
      if (f.is_regular_file() && has_image_extension(f.path().string())) return true;
    }
  }
  return false;
}

// The one file `dir/<prefix><split><suffix>`, or the only file matching without a split.
std::string pick_file(const fs::path& dir, const std::string& prefix, const std::string& suffix,
                      const std::string& split, const char* format) {
  if (!split.empty()) {
    fs::path p = dir / (prefix + split + suffix);
    OSPREY_CHECK_KIND(io, fs::exists(p), "{}: no {} for split '{}'", format, p.string(), split);
    return p.string();
  }
  auto found = files_matching(dir, prefix, suffix);
  OSPREY_CHECK_KIND(io, found.size() == 1, "{}: {} files {}*{} in {}; choose one with --split",
                    format, found.size(), prefix, suffix, dir.string());
  return found[0].string();
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

std::string detect_dataset_format(const std::string& path) {
  fs::path p(path);
  OSPREY_CHECK_KIND(not_found, fs::exists(p), "dataset: {} does not exist", path);
  if (fs::is_regular_file(p)) {
    std::string ext = p.extension().string();
    if (ext == ".json") return "coco";
    if (ext == ".csv") return "openimages";
    if (ext == ".txt") return "list";
  } else {
    if (fs::is_directory(p / "Annotations") && fs::is_directory(p / "ImageSets")) return "voc";
    if (!files_matching(p / "annotations", "instances_", ".json").empty()) return "coco";
    if (!files_matching(p, "", "-annotations-bbox.csv").empty()) return "openimages";
    if (is_synset_tree(p)) return "imagenet-loc";
    if (fs::exists(p / "imagelabels.mat") && fs::exists(p / "setid.mat")) return "flowers102";
    if (has_class_folders(p)) return "folders";
  }
  OSPREY_THROW(value,
               "dataset: cannot tell the format of {}; expected a VOC root (Annotations/, "
               "ImageSets/), a COCO instances .json or a folder with annotations/instances_*.json, "
               "an OpenImages box .csv or a folder with *-annotations-bbox.csv, an ImageNet-Loc "
               "folder of synset folders (n########/*.xml), a Flowers-102 folder "
               "(imagelabels.mat, setid.mat), a folder of class folders of images, "
               "or a list .txt; or name one with --format ({})",
               path, fmt::join(dataset_formats(), ", "));
}

DatasetInfo for_each_dataset_image(const DatasetSource& source, const ReadOptions& options,
                                   ReadReport& report,
                                   const std::function<void(const AnnotatedImage&)>& on_image) {
  DatasetInfo info;
  // Several VOC roots are one path with commas; the first root tells the format.
  info.format =
      source.format.empty() ? detect_dataset_format(split_commas(source.path)[0]) : source.format;
  const fs::path path(source.path);
  auto each = [&](const DetectionDataset& d) {
    info.name = d.name;
    info.class_names = d.class_names;
    for (const auto& image : d.images) on_image(image);
  };
  if (info.format == "voc") {
    std::vector<VocSource> roots;
    std::vector<std::string> paths = split_commas(source.path);
    std::vector<std::string> splits =
        split_commas(source.split.empty() ? "trainval" : source.split);
    OSPREY_CHECK(splits.size() == 1 || splits.size() == paths.size(),
                 "voc: {} roots but {} splits ('{}'); give one split or one per root", paths.size(),
                 splits.size(), source.split);
    for (size_t i = 0; i < paths.size(); ++i) {
      roots.push_back({paths[i], splits[splits.size() == 1 ? 0 : i]});
    }
    std::vector<std::string> classes;
    if (!source.classes.empty()) classes = read_class_file(source.classes);
    each(read_voc(roots, options, report, classes));
  } else if (info.format == "coco") {
    std::string json = fs::is_directory(path) ? pick_file(path / "annotations", "instances_",
                                                          ".json", source.split, "coco")
                                              : source.path;
    std::string images = source.image_dir;
    if (images.empty() && fs::is_directory(path)) {
      std::string split = fs::path(json).stem().string().substr(std::string("instances_").size());
      if (fs::is_directory(path / split)) images = (path / split).string();
    }
    each(read_coco(json, images, options, report).dataset);
  } else if (info.format == "openimages") {
    std::string csv = fs::is_directory(path)
                          ? pick_file(path, "", "-annotations-bbox.csv", source.split, "openimages")
                          : source.path;
    std::string classes =
        source.classes.empty()
            ? (fs::path(csv).parent_path() / "class-descriptions-boxable.csv").string()
            : source.classes;
    OpenImagesClasses oi = read_openimages_classes(classes);
    info.name = fs::path(csv).stem().string();
    info.class_names = oi.display_names;
    for_each_openimages_image(csv, oi, options, report, on_image, source.image_dir);
  } else if (info.format == "imagenet-loc") {
    std::string mapping = source.classes;
    if (mapping.empty() && fs::exists(path / "LOC_synset_mapping.txt")) {
      mapping = (path / "LOC_synset_mapping.txt").string();
    }
    each(read_imagenet_loc({source.path, source.image_dir, mapping}, options, report).dataset);
  } else if (info.format == "flowers102") {
    each(
        read_flowers102(source.path, source.split.empty() ? "trn" : source.split, options, report));
  } else if (info.format == "folders") {
    each(read_class_folders(source.path, options, report));
  } else if (info.format == "list") {
    std::string root = source.image_dir.empty() ? path.parent_path().string() : source.image_dir;
    each(read_class_list(source.path, root, source.classes, options, report));
  } else {
    OSPREY_THROW(value, "dataset: unknown format '{}' (known: {})", info.format,
                 fmt::join(dataset_formats(), ", "));
  }
  return info;
}

}  // namespace osprey::data
