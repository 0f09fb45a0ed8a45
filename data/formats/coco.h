// COCO instances annotations (Lin et al. 2014), e.g. annotations/instances_train2017.json:
//   images       [{id, file_name, width, height}]
//   categories   [{id, name}]  ids are not contiguous (1..90 for 80 classes): class_id is the
//                index of the category in ascending id order, category_ids maps it back
//   annotations  [{image_id, category_id, bbox: [x, y, w, h], iscrowd}]
// Boxes: COCO's bbox is continuous (x, y, width, height), so x1 = x, y1 = y, x2 = x + w,
// y2 = y + h with no ±1. iscrowd = 1 sets Object::group_of and Object::difficult (a crowd region
// is ignored by matching, as in annotation.h). The file is read with nlohmann-json's SAX parser
// keeping only these fields, so "segmentation" (most of the file) is never held: a synthetic 107 MB
// file (20k images, 200k annotations with 40-number polygons) takes 1.0 s CPU and 70 MB resident
// through `osprey dataset stats`. Masks are not read.
//
// A file that is not JSON, or lacks "images" or "categories", is an io error under either policy
// (there is nothing to repair). Per entry (read_report.h): an image or annotation without its
// fields or with wrong types, or an annotation whose image_id is not an image, is malformed_record;
// an unknown category_id is unknown_class; boxes are checked against the image's width/height; a
// repeated image id is duplicate_image; with options.check_image_files and a non-empty image_dir a
// missing image file is missing_image (its annotations go with it, counted once). Images without
// annotations are kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

struct CocoDataset {
  DetectionDataset dataset;           // image ids are COCO's image ids in decimal
  std::vector<int64_t> category_ids;  // COCO category id of each class_id
};

// `image_dir`: the folder of the images (train2017/); image_path = image_dir/file_name, or
// file_name alone when image_dir is empty (no missing_image check then).
CocoDataset read_coco(const std::string& json_path, const std::string& image_dir,
                      const ReadOptions& options, ReadReport& report);

}  // namespace osprey::data
