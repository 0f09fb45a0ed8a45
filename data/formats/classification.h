// Image-classification sets as AnnotatedImages with image_label set and no objects.
//
// Folder per class (Caltech-256: 256_ObjectCategories/001.ak47/001_0001.jpg): every sub-folder of
// the root is a class, in sorted folder order; its name with a leading "<digits>." stripped is the
// class name ("001.ak47" → "ak47"). Images are the files under it (recursively) ending in .jpg,
// .jpeg, .png, .bmp or .gif (any case); any other file is a not_an_image problem (skipped), as is a
// file directly in the root.
//
// List files (SUN-397 partitions, converted sets): one image per line, "path label" or "path".
//   label   an integer class index (0-based) or a class name;
//   none    the label is the path's parent folder ("/a/abbey/sun_x.jpg" → "/a/abbey", SUN-397's
//           ClassName.txt spelling).
// Classes come from `class_file` (one name per line; line order is the index; an integer label
// that is not a name is taken as the index) or, without one, from the labels themselves: "0".."max"
// when all are integers, else the sorted distinct names. image_path = image_root/path (a leading
// '/' of path is dropped). A line with more than two fields is malformed_record, an unknown label
// unknown_class, a missing file missing_image (options.check_image_files).
//
// Flowers-102 (Nilsback & Zisserman 2008): <root>/jpg/image_00001.jpg …, imagelabels.mat
// ("labels", 1×8189, values 1..102) and setid.mat ("trnid", "valid", "tstid": 1-based image
// numbers), both MATLAB files read directly (mat_file.h). image_label = label − 1; class names are
// "1".."102" (the dataset ships no names). A label outside 1..102 or an image number without a
// label is malformed_record; a missing JPEG missing_image.
#pragma once

#include <string>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

DetectionDataset read_class_folders(const std::string& root, const ReadOptions& options,
                                    ReadReport& report);

DetectionDataset read_class_list(const std::string& list_file, const std::string& image_root,
                                 const std::string& class_file, const ReadOptions& options,
                                 ReadReport& report);

// split: "trn" (or "train"), "val", "tst" (or "test").
DetectionDataset read_flowers102(const std::string& root, const std::string& split,
                                 const ReadOptions& options, ReadReport& report);

// True for the image extensions above.
bool has_image_extension(const std::string& path);

}  // namespace osprey::data
