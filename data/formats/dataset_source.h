// One entry point over every reader in data/formats, for `osprey dataset stats` (and later the
// spec's dataset registry): a path, a format name or "" to detect it, and the few locations a
// format may need; each image is handed to a callback so that OpenImages streams.
//
// Formats and what `path` is (detection tries them in this order):
//   voc           a VOC root (has Annotations/ and ImageSets/); split default "trainval";
//                 several roots: "VOC2007,VOC2012" with one split for all or one per root
//                 ("trainval,trainval"), see voc.h; classes: `classes`, else the first
//                 root's classes.txt (one name per line, as make-dataset writes), else VOC's 20
//   coco          an instances JSON file, or a folder with annotations/instances_<split>.json
//                 (the only one when split is empty); images: image_dir, else the folder's
//                 <split>/ (train2017/) when it exists
//   openimages    a box CSV (…-annotations-bbox.csv), or a folder with <split>-annotations-bbox.csv
//                 (the only one when split is empty); classes: `classes`, else
//                 class-descriptions-boxable.csv beside the CSV
//   imagenet-loc  a folder of synset folders (n########) of XML files; classes: `classes`
//                 (LOC_synset_mapping.txt) or, when present, LOC_synset_mapping.txt in the folder;
//                 images: image_dir
//   flowers102    a folder with imagelabels.mat, setid.mat and jpg/; split default "trn"
//   folders       a folder of class folders of images (Caltech-256)
//   list          a list file (.txt); images under image_dir (default: the list's folder);
//                 classes: `classes` (optional)
// A path that fits none is a value error that lists these layouts.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

struct DatasetSource {
  std::string path{};
  std::string format{};  // one of dataset_formats(), or "" to detect
  std::string split{};
  std::string image_dir{};
  std::string classes{};
};

const std::vector<std::string>& dataset_formats();

// The format of `path` by the rules above (value error when none fits).
std::string detect_dataset_format(const std::string& path);

struct DatasetInfo {
  std::string format;
  std::string name;
  std::vector<std::string> class_names;
};

// Reads the dataset, calling on_image per image (per group of rows for OpenImages, see
// openimages.h), and returns what it read.
DatasetInfo for_each_dataset_image(const DatasetSource& source, const ReadOptions& options,
                                   ReadReport& report,
                                   const std::function<void(const AnnotatedImage&)>& on_image);

}  // namespace osprey::data
