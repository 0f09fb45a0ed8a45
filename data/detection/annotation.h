// One annotated image of a detection / segmentation dataset, the common currency of the readers
// (VOC, COCO, OpenImages, ImageNet-Loc, Fashion-scenes), the transforms, SNIPER chips and
// `osprey dataset stats`. Boxes are (x1, y1, x2, y2) in pixels of the original image, continuous
// convention (width = x2 − x1; see ops/common/box_geometry.h): readers of 1-based inclusive formats
// (VOC's XML) convert on reading and say how in their header.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace osprey::data {

struct Object {
  std::array<float, 4> box{};  // x1, y1, x2, y2
  int class_id = 0;            // index into the dataset's class list (0-based, no background)
  bool difficult = false;      // VOC "difficult" / COCO iscrowd: ignored by evaluation
  bool truncated = false;
  bool occluded = false;
  bool group_of = false;  // OpenImages IsGroupOf (and COCO iscrowd): a box around several objects
  // OpenImages IsDepiction: a drawing, photo, toy or statue of the object, not the object itself.
  bool depiction = false;
  // OpenImages IsInside: the picture is taken from inside the object (a car's interior, a room).
  bool inside = false;
};

struct AnnotatedImage {
  std::string id;          // dataset-specific image id (VOC "2007_000032", COCO image id, ...)
  std::string image_path;  // absolute or dataset-root-relative path of the JPEG/PNG
  int width = 0;           // 0 when the annotation does not say (read from the image on demand)
  int height = 0;
  std::vector<Object> objects;
  std::string mask_path;  // palette PNG of class indices (255 = void); empty when there is none
  int image_label = -1;   // image-level class for classification sets; -1 when there is none
  // Boxes are fractions of the image size in [0, 1] (OpenImages' CSV), to be scaled by width and
  // height once the image is opened; false: pixels as above.
  bool normalized_boxes = false;
};

// Turns normalized boxes into pixels of a width × height image (the decoded or header size) and
// records the size; a no-op for images already in pixels. Loaders call it before using boxes.
inline void to_pixel_boxes(AnnotatedImage& image, int width, int height) {
  image.width = width;
  image.height = height;
  if (!image.normalized_boxes) return;
  for (Object& o : image.objects) {
    o.box = {o.box[0] * width, o.box[1] * height, o.box[2] * width, o.box[3] * height};
  }
  image.normalized_boxes = false;
}

struct DetectionDataset {
  std::string name;
  std::string root;
  std::vector<std::string> class_names;
  std::vector<AnnotatedImage> images;
};

}  // namespace osprey::data
