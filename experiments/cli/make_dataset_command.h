// The body of `osprey make-dataset fashion-scenes` (make_dataset_command.cc), callable in-process.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "data/fashion_scenes/fashion_scenes.h"

namespace osprey::cli {

// `osprey make-dataset fashion-scenes --out DIR [--preset P] [--count N] [--seed S] ...`; empty
// strings and negative numbers keep the preset's value.
struct MakeFashionScenesOptions {
  std::string out_dir;
  std::string preset = "scenes";
  int64_t count = -1;
  uint64_t seed = 0;
  int threads = 0;      // 0: every core
  std::string size;     // "WxH"
  std::string objects;  // "MIN-MAX"
  std::string scale;    // "MIN-MAX"
  double aspect_jitter = -1;
  double max_overlap = -1;
  double truncation = -1;
  std::string background;
  bool grey = false;
  std::string split;
  int mask_threshold = -1;
  int void_radius = -1;
  int jpeg_quality = -1;
  double train_fraction = -1;
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
};
data::fashion_scenes::WriteStats run_make_fashion_scenes(const MakeFashionScenesOptions& options,
                                                         std::ostream& out);

}  // namespace osprey::cli
