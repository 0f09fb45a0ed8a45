// ImageNet-Loc: the XML files are found by walking the annotation folder; each is read with the
// VOC annotation reader (first pixel 0).
#include "data/formats/imagenet_loc.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "data/formats/voc.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;

SynsetMapping read_synset_mapping(const std::string& path) {
  std::ifstream file(path);
  OSPREY_CHECK_KIND(io, file.good(), "ImageNet-Loc: cannot open synset mapping {}", path);
  SynsetMapping mapping;
  std::unordered_set<std::string> seen;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    size_t space = line.find(' ');
    std::string synset = line.substr(0, space);
    OSPREY_CHECK_KIND(io, !synset.empty() && synset.find('\t') == std::string::npos,
                      "{}:{}: expected \"<synset> <description>\"", path, number);
    OSPREY_CHECK_KIND(io, seen.insert(synset).second, "{}:{}: synset {} repeated", path, number,
                      synset);
    mapping.synsets.push_back(synset);
    mapping.descriptions.push_back(space == std::string::npos ? "" : line.substr(space + 1));
  }
  OSPREY_CHECK_KIND(io, !mapping.synsets.empty(), "{}: no synsets", path);
  return mapping;
}

ImageNetLocDataset read_imagenet_loc(const ImageNetLocSource& source, const ReadOptions& options,
                                     ReadReport& report) {
  const fs::path root(source.annotation_dir);
  OSPREY_CHECK_KIND(io, fs::is_directory(root), "ImageNet-Loc: {} is not a directory",
                    source.annotation_dir);
  ImageNetLocDataset out;
  DetectionDataset& d = out.dataset;
  d.name = "imagenet-loc";
  d.root = source.image_dir;
  std::vector<fs::path> xml_files;
  std::vector<std::string> folders;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_directory() && entry.path().parent_path() == root) {
      folders.push_back(entry.path().filename().string());
    } else if (entry.is_regular_file() && entry.path().extension() == ".xml") {
      xml_files.push_back(entry.path());
    }
  }
  std::sort(xml_files.begin(), xml_files.end());
  if (!source.synset_mapping.empty()) {
    SynsetMapping mapping = read_synset_mapping(source.synset_mapping);
    d.class_names = std::move(mapping.synsets);
    out.descriptions = std::move(mapping.descriptions);
  } else {
    OSPREY_CHECK_KIND(io, !folders.empty(),
                      "ImageNet-Loc: {} has no synset folders; give the synset mapping file",
                      source.annotation_dir);
    std::sort(folders.begin(), folders.end());
    d.class_names = folders;
    out.descriptions.assign(folders.size(), "");
  }
  for (const fs::path& xml_path : xml_files) {
    auto image = read_voc_annotation(xml_path.string(), d.class_names, options, report, 0);
    if (!image) continue;
    fs::path relative = xml_path.lexically_relative(root);
    image->id = relative.replace_extension().string();
    if (!source.image_dir.empty()) {
      image->image_path = (fs::path(source.image_dir) / (image->id + ".JPEG")).string();
      if (options.check_image_files && !fs::exists(image->image_path)) {
        report.flag(options.policy, ProblemKind::missing_image, xml_path.string(),
                    fmt::format("no file {}", image->image_path));
        continue;
      }
    }
    d.images.push_back(std::move(*image));
  }
  return out;
}

}  // namespace osprey::data
