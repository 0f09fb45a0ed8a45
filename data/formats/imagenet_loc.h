// ImageNet localisation (ILSVRC CLS-LOC, and the Fall-2011 box release): VOC-style XML per image,
//   train:  <annotation_dir>/<synset>/<synset>_<n>.xml   images <image_dir>/<synset>/<stem>.JPEG
//   val:    <annotation_dir>/<id>.xml (flat)             images <image_dir>/<id>.JPEG
// Both layouts may mix; files are read in sorted path order. Object <name>s are synset ids.
// Classes: the synset mapping file when given (LOC_synset_mapping.txt, "n01440764 tench, Tinca
// tinca" per line; line order is class_id), else the sorted names of the synset folders (a flat
// layout needs the mapping). class_names are the synset ids; the mapping's descriptions are
// returned beside them.
//
// Boxes: ImageNet's XML holds 0-based inclusive pixel indices (read unchanged by R-FCN-3000's
// imagenet.py, which then uses +1 widths), so x1 = xmin, y1 = ymin, x2 = xmax + 1, y2 = ymax + 1.
// Problems as for VOC (voc.h); an image whose XML is missing is simply not listed (the XML files
// are the index), a missing JPEG is missing_image when options.check_image_files.
#pragma once

#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

struct ImageNetLocSource {
  std::string annotation_dir;  // ILSVRC/Annotations/CLS-LOC/train
  std::string image_dir;       // ILSVRC/Data/CLS-LOC/train; empty: no image paths, no check
  std::string synset_mapping;  // LOC_synset_mapping.txt; empty: the synset folders
};

struct SynsetMapping {
  std::vector<std::string> synsets;       // "n01440764"
  std::vector<std::string> descriptions;  // "tench, Tinca tinca"
};

// A malformed line or a repeated synset is an io error naming the line.
SynsetMapping read_synset_mapping(const std::string& path);

struct ImageNetLocDataset {
  DetectionDataset dataset;  // ids are the XML paths relative to annotation_dir, without ".xml"
  std::vector<std::string> descriptions;  // per class; empty strings without a mapping file
};

ImageNetLocDataset read_imagenet_loc(const ImageNetLocSource& source, const ReadOptions& options,
                                     ReadReport& report);

}  // namespace osprey::data
