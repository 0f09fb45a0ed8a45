// PASCAL VOC (Everingham et al. 2010) in the VOCdevkit layout, one root per year:
//   <root>/Annotations/<id>.xml           objects: name, bndbox, difficult, truncated; <size>
//   <root>/ImageSets/Main/<split>.txt     image ids of a detection split (train, val, trainval,
//   test) <root>/ImageSets/Segmentation/<split>.txt <root>/JPEGImages/<id>.jpg
//   <root>/SegmentationClass/<id>.png     palette PNG of class indices (the path only; decoding is
//                                         data/image's job)
// Several roots/splits concatenate (VOC07+12: {VOC2007 trainval, VOC2012 trainval}); then every id
// is prefixed with its root's folder name ("VOC2007/000005") so ids stay unique, and an id read
// twice (the same root and split listed twice, or an id in two splits) is a duplicate_image
// problem.
//
// Box convention. VOC boxes are 1-based inclusive pixel indices: xmin = 1 is the first column and
// xmax = W the last. Osprey's boxes are continuous (annotation.h), so reading converts as Detectron
// does:   x1 = xmin − 1,  y1 = ymin − 1,  x2 = xmax,  y2 = ymax
// (a box covering the whole W×H image becomes (0, 0, W, H), width x2 − x1 = xmax − xmin + 1), and
// writing inverts it exactly: xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2.
//
// Checks (read_report.h): a box outside the <size> image, inverted or empty boxes, a class not in
// the class list, a missing XML for a listed id (detection only: segmentation images may lack one),
// a missing JPEG (and, for segmentation, a missing mask) when options.check_image_files, malformed
// XML or a non-numeric box / difficult / truncated field. "difficult" sets Object::difficult.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

// The 20 VOC classes in the devkit's order (aeroplane ... tvmonitor); class_id indexes this list.
const std::vector<std::string>& voc_class_names();

enum class VocTask { detection, segmentation };

struct VocSource {
  std::string root;  // VOCdevkit/VOC2007
  std::string split = "trainval";
  VocTask task = VocTask::detection;
};

// Reads and concatenates the sources in order. `class_names` defaults to the first root's
// classes.txt (one name per line, as osprey make-dataset writes) when it has one, else to
// voc_class_names().
DetectionDataset read_voc(const std::vector<VocSource>& sources, const ReadOptions& options,
                          ReadReport& report, std::vector<std::string> class_names = {});

// A class file: one name per line, blank lines skipped.
std::vector<std::string> read_class_file(const std::string& path);

// One Annotations/<id>.xml. Returns nullopt when the file is malformed (flagged under repair).
// `image_path` and `id` are left to the caller. `first_pixel` is the index of the first pixel
// column in the file: x1 = xmin − first_pixel, y1 = ymin − first_pixel, x2 = xmax + 1 −
// first_pixel, y2 = ymax + 1 − first_pixel (VOC: 1, the rule above; ImageNet-Loc: 0).
std::optional<AnnotatedImage> read_voc_annotation(const std::string& xml_path,
                                                  const std::vector<std::string>& class_names,
                                                  const ReadOptions& options, ReadReport& report,
                                                  int first_pixel = 1);

// The conversions above. VOC values are 1-based inclusive (xmin, ymin, xmax, ymax).
std::array<float, 4> voc_to_box(const std::array<double, 4>& voc);
std::array<double, 4> box_to_voc(const std::array<float, 4>& box);

// Optional fields at the top of a written annotation, as VOCdevkit's own files carry them
// (readers, ours included, ignore them).
struct VocXmlHeader {
  std::string folder;             // <folder>; omitted when empty
  std::string database;           // <source><database>; omitted when empty
  std::optional<bool> segmented;  // <segmented>; omitted when unset
};

// The annotation XML of one image (filename <id>.jpg, size, objects with name, bndbox, difficult,
// truncated), readable by read_voc_annotation and by the devkit's own tools.
std::string voc_annotation_xml(const AnnotatedImage& image,
                               const std::vector<std::string>& class_names,
                               const VocXmlHeader& header = {});
void write_voc_annotation(const std::string& xml_path, const AnnotatedImage& image,
                          const std::vector<std::string>& class_names);

}  // namespace osprey::data
