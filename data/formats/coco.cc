// COCO instances JSON through nlohmann-json's SAX interface: only the fields the reader uses are
// kept, in one small record per image, category and annotation, so that the polygons that make up
// most of a 450 MB train2017 file are tokenised and forgotten instead of built into a DOM.
// Sections may come in any order (the real files put categories last), so the records are
// checked and joined after the parse.
#include "data/formats/coco.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kDropped = static_cast<size_t>(-1);

// One element of the images, annotations or categories array; fields absent or of the wrong
// type stay empty.
struct Record {
  std::optional<int64_t> id, image_id, category_id, width, height;
  std::optional<std::string> name, file_name;
  int bbox_count = -1;  // -1: no bbox array; 5: not an array of at most 4 numbers
  std::array<double, 4> bbox{};
  bool crowd = false;
};

enum Section { kOther, kImages, kAnnotations, kCategories, kSections };
const char* const kSectionNames[kSections] = {"", "images", "annotations", "categories"};

class CocoSax : public nlohmann::json_sax<json> {
 public:
  std::vector<Record> records[kSections];
  bool present[kSections] = {};
  bool is_array[kSections] = {};
  bool root_is_object = false;
  std::string error;

  bool null() override { return scalar(Scalar{}); }
  bool boolean(bool) override { return scalar(Scalar{}); }
  bool number_integer(number_integer_t v) override { return scalar(Scalar{1, v, double(v)}); }
  bool number_unsigned(number_unsigned_t v) override {
    return scalar(Scalar{1, static_cast<int64_t>(v), double(v)});
  }
  bool number_float(number_float_t v, const string_t&) override { return scalar(Scalar{2, 0, v}); }
  bool string(string_t& s) override { return scalar(Scalar{3, 0, 0, &s}); }
  bool binary(binary_t&) override { return scalar(Scalar{}); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) root_is_object = true;
    container(true);
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1) is_array[section_] = true;
    container(false);
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      section_ = kOther;
      for (int s = kImages; s < kSections; ++s) {
        if (k == kSectionNames[s]) section_ = static_cast<Section>(s);
      }
      present[section_] = true;
    } else if (depth_ == 3) {
      field_ = k;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  struct Scalar {
    int kind = 0;  // 0 other, 1 integer, 2 float, 3 string
    int64_t integer = 0;
    double number = 0;
    const std::string* text = nullptr;
  };

  bool in_section() const { return section_ != kOther; }
  Record& current() { return records[section_].back(); }

  // A container opening at the current depth: a new entry at depth 2, a field value at depth 3
  // (only bbox may be an array), anything inside bbox at depth 4 spoils it.
  void container(bool object) {
    if (!in_section()) return;
    if (depth_ == 2) {
      records[section_].emplace_back();
      entry_is_object_ = object;
    } else if (depth_ == 3 && entry_is_object_ && field_ == "bbox") {
      current().bbox_count = object ? 5 : 0;
    } else if (depth_ == 4 && entry_is_object_ && field_ == "bbox") {
      current().bbox_count = 5;
    } else if (depth_ == 3 && entry_is_object_) {
      assign(Scalar{});  // an object or array where a scalar field was expected
    }
  }

  bool scalar(const Scalar& v) {
    if (!in_section()) return true;
    if (depth_ == 2) {
      records[section_].emplace_back();  // a non-object entry: every field missing
      entry_is_object_ = false;
    } else if (depth_ == 3 && entry_is_object_) {
      assign(v);
    } else if (depth_ == 4 && entry_is_object_ && field_ == "bbox") {
      Record& r = current();
      if (r.bbox_count >= 0 && r.bbox_count < 4 && (v.kind == 1 || v.kind == 2)) {
        r.bbox[r.bbox_count++] = v.number;
      } else {
        r.bbox_count = 5;
      }
    }
    return true;
  }

  void assign(const Scalar& v) {
    Record& r = current();
    auto integer = [&](std::optional<int64_t>& slot) {
      slot = v.kind == 1 ? std::optional<int64_t>(v.integer) : std::nullopt;
    };
    if (field_ == "id")
      integer(r.id);
    else if (field_ == "image_id")
      integer(r.image_id);
    else if (field_ == "category_id")
      integer(r.category_id);
    else if (field_ == "width")
      integer(r.width);
    else if (field_ == "height")
      integer(r.height);
    else if (field_ == "name")
      r.name = v.kind == 3 ? std::optional(*v.text) : std::nullopt;
    else if (field_ == "file_name")
      r.file_name = v.kind == 3 ? std::optional(*v.text) : std::nullopt;
    else if (field_ == "iscrowd")
      r.crowd = (v.kind == 1 || v.kind == 2) && int(v.number) != 0;
    else if (field_ == "bbox")
      r.bbox_count = 5;  // a scalar bbox
  }

  int depth_ = 0;
  Section section_ = kOther;
  std::string field_;
  bool entry_is_object_ = false;
};

}  // namespace

CocoDataset read_coco(const std::string& json_path, const std::string& image_dir,
                      const ReadOptions& options, ReadReport& report) {
  CocoSax sax;
  {
    std::ifstream file(json_path, std::ios::binary);
    OSPREY_CHECK_KIND(io, file.good(), "COCO: cannot open {}", json_path);
    bool ok = json::sax_parse(file, &sax);
    OSPREY_CHECK_KIND(io, ok && sax.error.empty(), "COCO: {} is not valid JSON: {}", json_path,
                      sax.error);
  }
  for (int s : {kCategories, kImages, kAnnotations}) {
    OSPREY_CHECK_KIND(io, sax.root_is_object && (sax.present[s] || s == kAnnotations),
                      "COCO: {} has no \"{}\" array", json_path, kSectionNames[s]);
    OSPREY_CHECK_KIND(io, !sax.present[s] || sax.is_array[s], "COCO: {}: \"{}\" is not an array",
                      json_path, kSectionNames[s]);
  }
  const std::vector<Record>& categories = sax.records[kCategories];
  const std::vector<Record>& images = sax.records[kImages];
  const std::vector<Record>& annotations = sax.records[kAnnotations];

  CocoDataset out;
  DetectionDataset& d = out.dataset;
  d.name = fs::path(json_path).stem().string();
  d.root = image_dir;
  std::vector<std::pair<int64_t, std::string>> cats;
  for (size_t i = 0; i < categories.size(); ++i) {
    const Record& c = categories[i];
    OSPREY_CHECK_KIND(io, c.id && c.name,
                      "COCO: {}: categories[{}] needs an integer id and a string name", json_path,
                      i);
    cats.emplace_back(*c.id, *c.name);
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
    const Record& im = images[i];
    std::string where = fmt::format("{}: images[{}]", json_path, i);
    if (!im.id || !im.width || !im.height || !im.file_name) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  "needs integer id, width, height and a string file_name");
      continue;
    }
    AnnotatedImage image;
    image.id = std::to_string(*im.id);
    image.width = static_cast<int>(*im.width);
    image.height = static_cast<int>(*im.height);
    image.image_path =
        image_dir.empty() ? *im.file_name : (fs::path(image_dir) / *im.file_name).string();
    if (image_index.count(*im.id)) {
      report.flag(options.policy, ProblemKind::duplicate_image, where,
                  fmt::format("image id {} read before", *im.id));
      continue;
    }
    if (options.check_image_files && !image_dir.empty() && !fs::exists(image.image_path)) {
      report.flag(options.policy, ProblemKind::missing_image, where,
                  fmt::format("no file {}", image.image_path));
      image_index.emplace(*im.id, kDropped);  // its annotations go with it, counted once here
      continue;
    }
    image_index.emplace(*im.id, d.images.size());
    d.images.push_back(std::move(image));
  }

  for (size_t i = 0; i < annotations.size(); ++i) {
    const Record& a = annotations[i];
    std::string where = fmt::format("{}: annotations[{}]", json_path, i);
    if (a.id) where += fmt::format(" (id {})", *a.id);
    if (!a.image_id || !a.category_id || a.bbox_count != 4) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  "needs integer image_id and category_id and a bbox of 4 numbers");
      continue;
    }
    auto image = image_index.find(*a.image_id);
    if (image == image_index.end()) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  fmt::format("image_id {} is not an image", *a.image_id));
      continue;
    }
    if (image->second == kDropped) continue;
    auto cls = class_of.find(*a.category_id);
    if (cls == class_of.end()) {
      report.flag(options.policy, ProblemKind::unknown_class, where,
                  fmt::format("category_id {} is not a category", *a.category_id));
      continue;
    }
    Object object;
    object.class_id = cls->second;
    const auto& b = a.bbox;
    object.box = {float(b[0]), float(b[1]), float(b[0] + b[2]), float(b[1] + b[3])};
    object.group_of = a.crowd;
    object.difficult = a.crowd;
    AnnotatedImage& target = d.images[image->second];
    if (!check_box(object, target.width, target.height, options, report, where)) continue;
    target.objects.push_back(object);
  }
  return out;
}

}  // namespace osprey::data
