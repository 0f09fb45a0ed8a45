// Fixture writers of the dataset-reader tests: small VOC/COCO/OpenImages trees written into a
// temporary directory (data_test_support.h's TempDirTest), and a check of a strict-policy error.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "data/formats/voc.h"
#include "framework/core/error.h"

namespace osprey::data::testing {

// Writes `text` to `path`, creating the parent folders.
inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// The message of the osprey::Error `fn` throws ("" when it throws none).
inline std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline Object object(int class_id, float x1, float y1, float x2, float y2, bool difficult = false) {
  Object o;
  o.class_id = class_id;
  o.box = {x1, y1, x2, y2};
  o.difficult = difficult;
  return o;
}

// A VOC root with `images` (ids, sizes, objects) written through write_voc_annotation, their
// (empty) JPEGs, and ImageSets/Main/<split>.txt listing them.
inline void write_voc_root(const std::filesystem::path& root, const std::string& split,
                           const std::vector<AnnotatedImage>& images) {
  std::filesystem::create_directories(root / "Annotations");
  std::string ids;
  for (const auto& image : images) {
    write_voc_annotation((root / "Annotations").string() + "/" + image.id + ".xml", image,
                         voc_class_names());
    write_text(root / "JPEGImages" / (image.id + ".jpg"), "");
    ids += image.id + "\n";
  }
  write_text(root / "ImageSets" / "Main" / (split + ".txt"), ids);
}

inline AnnotatedImage voc_image(const std::string& id, int width, int height,
                                std::vector<Object> objects) {
  AnnotatedImage image;
  image.id = id;
  image.width = width;
  image.height = height;
  image.objects = std::move(objects);
  return image;
}

}  // namespace osprey::data::testing
