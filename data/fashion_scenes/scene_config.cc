#include "data/fashion_scenes/scene_config.h"

#include <fmt/format.h>

#include "framework/core/error.h"

namespace osprey::data::fashion_scenes {

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names = {"cls", "loc", "scenes", "voc"};
  return names;
}

DatasetConfig preset(const std::string& name) {
  DatasetConfig c;
  c.preset = name;
  if (name == "cls" || name == "loc") {
    c.scene.centred = true;
    c.scene.background = Background::textured;
    c.boxes = name == "loc";
    c.segmentation = false;
  } else if (name == "scenes") {
    c.scene.min_objects = 2;
    c.scene.max_objects = 8;
    c.scene.background = Background::cluttered;
    c.scene.truncation = 0.2;
  } else if (name == "voc") {
    c.source_split = "test";
    c.scene.min_objects = 1;
    c.scene.max_objects = 4;
    c.scene.min_size = 16;
    c.scene.max_size = 220;
    c.scene.truncation = 0.15;
    c.scene.background = Background::textured;
  } else {
    OSPREY_THROW(value, "fashion-scenes: unknown preset '{}' (known: {})", name,
                 fmt::join(preset_names(), ", "));
  }
  return c;
}

void validate(const DatasetConfig& config) {
  const SceneConfig& s = config.scene;
  OSPREY_CHECK(s.width >= 16 && s.height >= 16 && s.width <= 8192 && s.height <= 8192,
               "fashion-scenes: canvas {}x{} must be between 16 and 8192 pixels a side", s.width,
               s.height);
  OSPREY_CHECK(s.min_objects >= 0 && s.min_objects <= s.max_objects,
               "fashion-scenes: need 0 <= min_objects <= max_objects, got {} and {}", s.min_objects,
               s.max_objects);
  OSPREY_CHECK(s.min_size >= 4 && s.min_size <= s.max_size,
               "fashion-scenes: need 4 <= min_size <= max_size, got {} and {}", s.min_size,
               s.max_size);
  OSPREY_CHECK(s.max_size <= std::min(s.width, s.height),
               "fashion-scenes: max_size {} exceeds the canvas {}x{}", s.max_size, s.width,
               s.height);
  OSPREY_CHECK(s.aspect_jitter >= 0 && s.aspect_jitter <= 2,
               "fashion-scenes: aspect_jitter must be in [0, 2], got {}", s.aspect_jitter);
  OSPREY_CHECK(s.truncation >= 0 && s.truncation <= 1,
               "fashion-scenes: truncation must be in [0, 1], got {}", s.truncation);
  OSPREY_CHECK(s.max_overlap >= 0 && s.max_overlap <= 1,
               "fashion-scenes: max_overlap must be in [0, 1], got {}", s.max_overlap);
  OSPREY_CHECK(s.mask_threshold >= 0 && s.mask_threshold < 255,
               "fashion-scenes: mask_threshold must be in [0, 254], got {}", s.mask_threshold);
  OSPREY_CHECK(s.void_radius >= 0 && s.void_radius <= 16,
               "fashion-scenes: void_radius must be in [0, 16], got {}", s.void_radius);
  OSPREY_CHECK(s.centred_fill > 0 && s.centred_fill <= 1,
               "fashion-scenes: centred_fill must be in (0, 1], got {}", s.centred_fill);
  OSPREY_CHECK(config.count >= 0, "fashion-scenes: count must be >= 0, got {}", config.count);
  OSPREY_CHECK(config.train_fraction >= 0 && config.train_fraction <= 1,
               "fashion-scenes: train_fraction must be in [0, 1], got {}", config.train_fraction);
  OSPREY_CHECK(config.jpeg_quality >= 1 && config.jpeg_quality <= 100,
               "fashion-scenes: jpeg_quality must be in [1, 100], got {}", config.jpeg_quality);
  OSPREY_CHECK(config.png_compression >= 0 && config.png_compression <= 9,
               "fashion-scenes: png_compression must be in [0, 9], got {}", config.png_compression);
}

}  // namespace osprey::data::fashion_scenes
