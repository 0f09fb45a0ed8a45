// VOC split files, annotation XML (through xml.h) and the 1-based ↔ continuous box conversion.
#include "data/formats/voc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "data/formats/xml.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace fs = std::filesystem;

const std::vector<std::string>& voc_class_names() {
  static const std::vector<std::string> names = {
      "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",      "car",
      "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",    "motorbike",
      "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
  return names;
}

std::array<float, 4> voc_to_box(const std::array<double, 4>& voc) {
  return {static_cast<float>(voc[0] - 1), static_cast<float>(voc[1] - 1),
          static_cast<float>(voc[2]), static_cast<float>(voc[3])};
}

std::array<double, 4> box_to_voc(const std::array<float, 4>& box) {
  return {double(box[0]) + 1, double(box[1]) + 1, double(box[2]), double(box[3])};
}

namespace {

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// "0"/"1" flags; an absent element is false.
bool parse_flag(const xml::Element& object, const char* name, bool& value) {
  const xml::Element* e = object.child(name);
  value = false;
  if (e == nullptr || e->text.empty()) return true;
  double v = 0;
  if (!parse_number(e->text, v) || (v != 0 && v != 1)) return false;
  value = v == 1;
  return true;
}

int parse_int_child(const xml::Element* parent, const char* name) {
  const xml::Element* e = parent ? parent->child(name) : nullptr;
  double v = 0;
  if (e == nullptr || !parse_number(e->text, v) || v < 0) return 0;
  return static_cast<int>(v);
}

std::string folder_name(const std::string& root) {
  fs::path p = fs::path(root).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

std::vector<std::string> read_ids(const std::string& path, const ReadOptions& options,
                                  ReadReport& report) {
  std::ifstream file(path);
  OSPREY_CHECK_KIND(io, file.good(), "VOC: cannot open split file {}", path);
  std::vector<std::string> ids;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    size_t e = line.find_last_not_of(" \t\r");
    std::string id = line.substr(b, e - b + 1);
    if (id.find_first_of(" \t") != std::string::npos) {
      report.flag(options.policy, ProblemKind::malformed_record, fmt::format("{}:{}", path, number),
                  fmt::format("expected one image id, got '{}'", id));
      continue;
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

std::optional<AnnotatedImage> read_voc_annotation(const std::string& xml_path,
                                                  const std::vector<std::string>& class_names,
                                                  const ReadOptions& options, ReadReport& report,
                                                  int first_pixel) {
  std::unique_ptr<xml::Element> root;
  try {
    root = xml::parse_file(xml_path);
  } catch (const Error& e) {
    report.flag(options.policy, ProblemKind::malformed_record, xml_path, e.message());
    return std::nullopt;
  }
  AnnotatedImage image;
  const xml::Element* size = root->child("size");
  image.width = parse_int_child(size, "width");
  image.height = parse_int_child(size, "height");
  int index = 0;
  for (const xml::Element* node : root->children_named("object")) {
    ++index;
    const xml::Element* name = node->child("name");
    std::string class_name = name ? name->text : "";
    std::string where =
        fmt::format("{}:{} object {} ('{}')", xml_path, node->line, index, class_name);
    Object object;
    auto found = std::find(class_names.begin(), class_names.end(), class_name);
    if (found == class_names.end()) {
      report.flag(options.policy, ProblemKind::unknown_class, where,
                  fmt::format("'{}' is not one of the {} classes", class_name, class_names.size()));
      continue;
    }
    object.class_id = static_cast<int>(found - class_names.begin());
    const xml::Element* bndbox = node->child("bndbox");
    std::array<double, 4> voc{};
    const char* fields[4] = {"xmin", "ymin", "xmax", "ymax"};
    bool ok = bndbox != nullptr;
    for (int k = 0; ok && k < 4; ++k) {
      const xml::Element* e = bndbox->child(fields[k]);
      ok = e != nullptr && parse_number(e->text, voc[k]);
    }
    if (!ok) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  "missing or non-numeric bndbox/xmin, ymin, xmax or ymax");
      continue;
    }
    if (!parse_flag(*node, "difficult", object.difficult) ||
        !parse_flag(*node, "truncated", object.truncated)) {
      report.flag(options.policy, ProblemKind::malformed_record, where,
                  "difficult/truncated is not 0 or 1");
      continue;
    }
    double shift = first_pixel;
    object.box = {float(voc[0] - shift), float(voc[1] - shift), float(voc[2] + 1 - shift),
                  float(voc[3] + 1 - shift)};
    if (!check_box(object, image.width, image.height, options, report, where)) continue;
    image.objects.push_back(object);
  }
  return image;
}

std::vector<std::string> read_class_file(const std::string& path) {
  std::ifstream file(path);
  OSPREY_CHECK_KIND(io, file.good(), "VOC: cannot open class file {}", path);
  std::vector<std::string> names;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

DetectionDataset read_voc(const std::vector<VocSource>& sources, const ReadOptions& options,
                          ReadReport& report, std::vector<std::string> class_names) {
  OSPREY_CHECK(!sources.empty(), "read_voc: no sources");
  DetectionDataset dataset;
  const fs::path own_classes = fs::path(sources[0].root) / "classes.txt";
  if (class_names.empty() && fs::exists(own_classes)) {
    class_names = read_class_file(own_classes.string());
  }
  dataset.class_names = class_names.empty() ? voc_class_names() : std::move(class_names);
  dataset.root = sources.size() == 1 ? sources[0].root : "";
  std::unordered_set<std::string> seen;
  for (const VocSource& source : sources) {
    const fs::path root(source.root);
    OSPREY_CHECK_KIND(io, fs::is_directory(root), "VOC: root {} is not a directory", source.root);
    bool segmentation = source.task == VocTask::segmentation;
    std::string split_file =
        (root / "ImageSets" / (segmentation ? "Segmentation" : "Main") / (source.split + ".txt"))
            .string();
    std::string prefix = sources.size() > 1 ? folder_name(source.root) + "/" : "";
    dataset.name += fmt::format("{}{}{}/{}", dataset.name.empty() ? "" : "+",
                                folder_name(source.root), segmentation ? "/seg" : "", source.split);
    for (const std::string& id : read_ids(split_file, options, report)) {
      std::string full_id = prefix + id;
      if (!seen.insert(full_id).second) {
        report.flag(options.policy, ProblemKind::duplicate_image, split_file,
                    fmt::format("image id {} read before", full_id));
        continue;
      }
      fs::path xml_path = root / "Annotations" / (id + ".xml");
      AnnotatedImage image;
      if (fs::exists(xml_path)) {
        auto parsed = read_voc_annotation(xml_path.string(), dataset.class_names, options, report);
        if (!parsed) continue;
        image = std::move(*parsed);
      } else if (!segmentation) {
        report.flag(options.policy, ProblemKind::missing_annotation, split_file,
                    fmt::format("{} has no {}", id, xml_path.string()));
        continue;
      }
      image.id = full_id;
      image.image_path = (root / "JPEGImages" / (id + ".jpg")).string();
      if (segmentation) image.mask_path = (root / "SegmentationClass" / (id + ".png")).string();
      if (options.check_image_files) {
        bool missing_mask = segmentation && !fs::exists(image.mask_path);
        if (!fs::exists(image.image_path) || missing_mask) {
          report.flag(
              options.policy, ProblemKind::missing_image, split_file,
              fmt::format("{}: no file {}", id, missing_mask ? image.mask_path : image.image_path));
          continue;
        }
      }
      dataset.images.push_back(std::move(image));
    }
  }
  return dataset;
}

std::string voc_annotation_xml(const AnnotatedImage& image,
                               const std::vector<std::string>& class_names,
                               const VocXmlHeader& header) {
  std::string out = "<annotation>\n";
  if (!header.folder.empty())
    out += fmt::format("  <folder>{}</folder>\n", xml::escape(header.folder));
  out += fmt::format("  <filename>{}.jpg</filename>\n", xml::escape(image.id));
  if (!header.database.empty()) {
    out +=
        fmt::format("  <source><database>{}</database></source>\n", xml::escape(header.database));
  }
  out += fmt::format("  <size><width>{}</width><height>{}</height><depth>3</depth></size>\n",
                     image.width, image.height);
  if (header.segmented) out += fmt::format("  <segmented>{}</segmented>\n", int(*header.segmented));
  for (const Object& o : image.objects) {
    OSPREY_CHECK(o.class_id >= 0 && o.class_id < static_cast<int>(class_names.size()),
                 "voc_annotation_xml: {}: class_id {} outside the {} classes", image.id, o.class_id,
                 class_names.size());
    auto v = box_to_voc(o.box);
    out += fmt::format(
        "  <object>\n    <name>{}</name>\n    <truncated>{}</truncated>\n"
        "    <difficult>{}</difficult>\n    <bndbox><xmin>{}</xmin><ymin>{}</ymin>"
        "<xmax>{}</xmax><ymax>{}</ymax></bndbox>\n  </object>\n",
        xml::escape(class_names[o.class_id]), int(o.truncated), int(o.difficult), v[0], v[1], v[2],
        v[3]);
  }
  return out + "</annotation>\n";
}

void write_voc_annotation(const std::string& xml_path, const AnnotatedImage& image,
                          const std::vector<std::string>& class_names) {
  std::ofstream file(xml_path);
  file << voc_annotation_xml(image, class_names);
  OSPREY_CHECK_KIND(io, file.good(), "cannot write {}", xml_path);
}

}  // namespace osprey::data
