// COCO instances JSON through nlohmann-json; "segmentation" values are dropped by the parser
// callback so that a 450 MB train2017 file does not become gigabytes of polygons in memory.
#include "data/formats/coco.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kDropped = static_cast<size_t>(-1);

json parse_without_segmentation(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  OSPREY_CHECK_KIND(io, file.good(), "COCO: cannot open {}", path);
  auto skip_masks = [](int /*depth*/, json::parse_event_t event, json& parsed) {
    return !(event == json::parse_event_t::key && parsed == "segmentation");
  };
  try {
    return json::parse(file, skip_masks);
  } catch (const json::exception& e) {
    OSPREY_THROW(io, "COCO: {} is not valid JSON: {}", path, e.what());
  }
}

bool is_integer(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer();
}

const json& top_array(const json& root, const char* key, const std::string& path, bool required) {
  static const json empty = json::array();
  if (!root.is_object() || !root.contains(key)) {
    OSPREY_CHECK_KIND(io, !required, "COCO: {} has no \"{}\" array", path, key);
    return empty;
  }
  OSPREY_CHECK_KIND(io, root[key].is_array(), "COCO: {}: \"{}\" is not an array", path, key);
  return root[key];
}

}  // namespace

CocoDataset read_coco(const std::string& json_path, const std::string& image_dir,
                      const ReadOptions& options, ReadReport& report) {
  json root = parse_without_segmentation(json_path);
  const json& categories = top_array(root, "categories", json_path, true);
  const json& images = top_array(root, "images", json_path, true);
  const json& annotations = top_array(root, "annotations", json_path, false);

  CocoDataset out;
  DetectionDataset& d = out.dataset;
  d.name = fs::path(json_path).stem().string();
  d.root = image_dir;
  std::vector<std::pair<int64_t, std::string>> cats;
  for (size_t i = 0; i < categories.size(); ++i) {
    const json& c = categories[i];
    OSPREY_CHECK_KIND(io, is_integer(c, "id") && c.contains("name") && c["name"].is_string(),
                      "COCO: {}: categories[{}] needs an integer id and a string name", json_path,
                      i);
    cats.emplace_back(c["id"].get<int64_t>(), c["name"].get<std::string>());
  }
  std::sort(cats.begin(), cats.end());
  std::unordered_map<int64_t, int> class_of;
  for (const auto& [id, name] : cats) {
    OSPREY_CHECK_KIND(io, class_of.emplace(id, int(d.class_names.size())).second,
                      "COCO: {}: category id {} appears twice", json_path, id);
    out.category_ids.push_back(id);
    d.class_names.push_back(name);
  }

  std::unordered_map<int64_t, size_t> image_index;
  for (size_t i = 0; i < images.size(); ++i) {
    const json& im = images[i];
    std::string where = fmt::format("{}: images[{}]", json_path, i);
    if (!is_integer(im, "id") || !is_integer(im, "width") || !is_integer(im, "height") ||
        !im.contains("file_name") || !im["file_name"].is_string()) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  "needs integer id, width, height and a string file_name");
      continue;
    }
    int64_t id = im["id"].get<int64_t>();
    AnnotatedImage image;
    image.id = std::to_string(id);
    image.width = im["width"].get<int>();
    image.height = im["height"].get<int>();
    std::string file = im["file_name"].get<std::string>();
    image.image_path = image_dir.empty() ? file : (fs::path(image_dir) / file).string();
    if (image_index.count(id)) {
      report.flag(options.policy, ProblemKind::duplicate_image, where,
                  fmt::format("image id {} read before", id));
      continue;
    }
    if (options.check_image_files && !image_dir.empty() && !fs::exists(image.image_path)) {
      report.flag(options.policy, ProblemKind::missing_image, where,
                  fmt::format("no file {}", image.image_path));
      image_index.emplace(id, kDropped);  // its annotations go with it, counted once here
      continue;
    }
    image_index.emplace(id, d.images.size());
    d.images.push_back(std::move(image));
  }

  for (size_t i = 0; i < annotations.size(); ++i) {
    const json& a = annotations[i];
    std::string where = fmt::format("{}: annotations[{}]", json_path, i);
    if (is_integer(a, "id")) where += fmt::format(" (id {})", a["id"].get<int64_t>());
    bool box_ok = a.is_object() && a.contains("bbox") && a["bbox"].is_array() &&
                  a["bbox"].size() == 4 &&
                  std::all_of(a["bbox"].begin(), a["bbox"].end(),
                              [](const json& v) { return v.is_number(); });
    if (!is_integer(a, "image_id") || !is_integer(a, "category_id") || !box_ok) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  "needs integer image_id and category_id and a bbox of 4 numbers");
      continue;
    }
    auto image = image_index.find(a["image_id"].get<int64_t>());
    if (image == image_index.end()) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  fmt::format("image_id {} is not an image", a["image_id"].get<int64_t>()));
      continue;
    }
    if (image->second == kDropped) continue;
    auto cls = class_of.find(a["category_id"].get<int64_t>());
    if (cls == class_of.end()) {
      report.flag(options.policy, ProblemKind::unknown_class, where,
                  fmt::format("category_id {} is not a category", a["category_id"].get<int64_t>()));
      continue;
    }
    Object object;
    object.class_id = cls->second;
    const json& b = a["bbox"];
    double x = b[0].get<double>(), y = b[1].get<double>(), w = b[2].get<double>(),
           h = b[3].get<double>();
    object.box = {float(x), float(y), float(x + w), float(y + h)};
    bool crowd = a.contains("iscrowd") && a["iscrowd"].is_number() && a["iscrowd"].get<int>() != 0;
    object.group_of = crowd;
    object.difficult = crowd;
    AnnotatedImage& target = d.images[image->second];
    if (!check_box(object, target.width, target.height, options, report, where)) continue;
    target.objects.push_back(object);
  }
  return out;
}

}  // namespace osprey::data
