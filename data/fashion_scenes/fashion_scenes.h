// The Fashion-scenes generator: a complete PASCAL VOC-layout dataset composed from Fashion-MNIST
// items (scene_composer.h), the data of the built-in study. `osprey make-dataset fashion-scenes`
// runs it. Layout under the output directory:
//   JPEGImages/<id>.jpg                 the scene (RGB, JPEG quality `jpeg_quality`)
//   Annotations/<id>.xml                VOC XML (data/formats/voc.h: 1-based inclusive boxes); with
//                                       boxes = false the objects are left out
//   SegmentationClass/<id>.png          palette PNG (VOC colour map) of class + 1, 0 = background,
//   SegmentationObject/<id>.png         object index + 1; both 255 = void band (segmentation)
//   ImageSets/Main/{train,val,trainval}.txt and <class>_{train,val,trainval}.txt (" 1" / "-1")
//   ImageSets/Segmentation/{train,val,trainval}.txt   (segmentation)
//   labels.txt                          "<id> <class index>" of centred presets (image labels)
//   classes.txt                         the class names, one a line, in index order
// Ids are six-digit image indices ("000000"); ids [0, round(train_fraction · count)) are train.
//
// Determinism: image i is a pure function of (config, items, seed, i) and every file is written
// from it alone, so any number of threads writes the same bytes.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/fashion_scenes/scene_composer.h"
#include "data/fashion_scenes/scene_config.h"

namespace osprey::data::fashion_scenes {

// VOC-style names of the ten Fashion-MNIST classes (no spaces or slashes): tshirt, trouser, ...
const std::vector<std::string>& class_names();

struct WriteStats {
  int64_t images = 0;
  int64_t objects = 0;
  int threads = 1;
  double seconds = 0;  // composing, encoding and writing (not reading Fashion-MNIST)
};

// Writes the dataset with `threads` threads (≥ 1) from `items`.
WriteStats write_dataset(const DatasetConfig& config, const ItemSource& items,
                         const std::string& out_dir, int threads);

// Reads config.source_split of Fashion-MNIST from `fashion_dir`, then writes the dataset.
WriteStats write_fashion_scenes(const DatasetConfig& config, const std::string& fashion_dir,
                                const std::string& out_dir, int threads);

}  // namespace osprey::data::fashion_scenes
