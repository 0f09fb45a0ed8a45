// PASCAL VOC annotation XML for one image, the format of VOCdevkit's Annotations/*.xml: boxes are
// 1-based inclusive pixel coordinates, so an `Object` box (continuous, annotation.h) covering pixel
// columns x1 … x2 − 1 (0-based) is written xmin = x1 + 1, xmax = x2 (rounded to integers), and the
// same for y. Readers of VOC undo exactly this.
#pragma once

#include <string>
#include <vector>

#include "data/detection/annotation.h"

namespace osprey::data::fashion_scenes {

// `image.id` + ".jpg" is the filename; `folder` is VOC's <folder> (e.g. "FashionScenes");
// `class_names[class_id]` names each object; `segmented` sets <segmented>.
std::string voc_annotation_xml(const AnnotatedImage& image, const std::string& folder,
                               const std::vector<std::string>& class_names, bool segmented);

// Text escaped for XML character data (& < > " ').
std::string xml_escape(const std::string& text);

}  // namespace osprey::data::fashion_scenes
