// `osprey dataset stats PATH [--format F] [--split S] [--images DIR] [--classes FILE]
//  [--edges 32,80,120,150] [--policy repair|strict] [--no-image-check] [--no-image-sizes]`: reads
//  any dataset
// data/formats/dataset_source.h knows (format detected unless given) and prints image count,
// objects per class, the box-size histogram over SNIPER's scale ranges and the problems found
// (policy repair by default, so problems are counted rather than fatal). Images with normalized
// boxes and no size (OpenImages) get their size from the image file's header when the file is
// known (--images), so that their boxes enter the histogram.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "data/formats/dataset_stats.h"

namespace osprey::cli {

struct DatasetStatsOptions {
  std::string path;
  std::string format;
  std::string split;
  std::string image_dir;
  std::string classes;
  std::vector<double> edges = data::default_size_edges();
  std::string policy = "repair";
  bool check_images = true;
  bool read_image_sizes = true;
};

// Prints the statistics to `out` and returns them.
data::DatasetStats run_dataset_stats(const DatasetStatsOptions& options, std::ostream& out);

}  // namespace osprey::cli
