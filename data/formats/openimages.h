// OpenImages V4 boxes (Kuznetsova et al. 2020): train-annotations-bbox.csv (14.6 M rows) with the
// header ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,
// IsDepiction,IsInside (columns found by name, any order; the first six named here except Source
// and Confidence are required), and class-descriptions-boxable.csv ("LabelName,DisplayName" rows,
// no header; the row order gives class_id, as SNIPER's openimages.py does: 601 classes).
//
// Coordinates are fractions of the image size; the CSV does not give the size, so images come with
// normalized_boxes = true, width = height = 0, and box = (XMin, YMin, XMax, YMax) in [0, 1].
// IsOccluded, IsTruncated, IsGroupOf, IsDepiction, IsInside set the Object flags occluded,
// truncated, group_of, depiction, inside (V4 writes −1 for "unknown": false); IsGroupOf also sets
// difficult (ignored by matching, like COCO's crowd). Source and Confidence are checked but not
// kept.
//
// Streaming: for_each_openimages_image() reads the file once in blocks and calls back once per run
// of rows with the same ImageID, so memory is one image's boxes plus one 8-byte hash per image
// seen. The real file keeps each ImageID's rows together; that is checked, not assumed: an ImageID
// whose rows resume after another image's (a 64-bit hash of every finished ImageID is kept) is a
// split_image_group problem; under repair the later rows are delivered as a further group with the
// same id, so callers that aggregate by id lose nothing (read_openimages() merges them and reports
// nothing), and callers that count images subtract report.count(split_image_group).
//
// Per row (read_report.h, where = "<csv>:<line>"): a wrong field count, a bad quote, an empty
// ImageID, non-numeric coordinates or flags are malformed_record (row dropped); an unknown
// LabelName is unknown_class; coordinates outside [0, 1] are clipped (box_outside_image); XMax <
// XMin or YMax < YMin is inverted_box, equal is empty_box. With a non-empty image_dir and
// options.check_image_files, an ImageID without <image_dir>/<ImageID>.jpg is missing_image (the
// whole group dropped). An image whose rows were all dropped is still delivered, with no objects.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

struct OpenImagesClasses {
  std::vector<std::string> label_names;    // "/m/011k07"
  std::vector<std::string> display_names;  // "Tortoise"
};

// class-descriptions(-boxable).csv; a header row "LabelName,DisplayName" is skipped. A malformed
// row or a repeated LabelName is an io error (the class list is not repairable).
OpenImagesClasses read_openimages_classes(const std::string& csv_path);

// Calls `on_image` per group of rows (see above); returns the number of rows read (header
// excluded). image_path is <image_dir>/<ImageID>.jpg, or empty without an image_dir.
int64_t for_each_openimages_image(const std::string& boxes_csv, const OpenImagesClasses& classes,
                                  const ReadOptions& options, ReadReport& report,
                                  const std::function<void(const AnnotatedImage&)>& on_image,
                                  const std::string& image_dir = "");

// The whole file in memory (for the validation/test splits or subsets), groups merged by ImageID
// in order of first appearance; class_names are the display names.
DetectionDataset read_openimages(const std::string& boxes_csv, const OpenImagesClasses& classes,
                                 const ReadOptions& options, ReadReport& report,
                                 const std::string& image_dir = "");

}  // namespace osprey::data
