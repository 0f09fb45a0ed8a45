// What a Fashion-scenes image looks like: the knobs of the generator of the built-in study's data
// (scenes composed from Fashion-MNIST items; see scene_composer.h for how they are drawn), and the
// presets for the study's roles.
//
// Object size is the side of the item's 28×28 frame once resized (before aspect jitter), drawn
// log-uniformly from [min_size, max_size]; on a 256×256 canvas the defaults (12 … 200) give tight
// boxes of sqrt-area from about 8 to 180 px, so SNIPER's small/medium/large ranges all occur.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::data::fashion_scenes {

enum class Background {
  plain,      // one flat colour
  textured,   // a colour gradient, two sine gratings and value noise
  cluttered,  // textured plus faint, unannotated fragments of other items
};

struct SceneConfig {
  int width = 256;
  int height = 256;
  int min_objects = 1;
  int max_objects = 6;
  double min_size = 12;  // item frame side in pixels (see above)
  double max_size = 200;
  // Aspect ratio (w / h) of an item, log-uniform in [1 / (1 + jitter), 1 + jitter].
  double aspect_jitter = 0.3;
  // A new object is rejected when its box's IoU with an earlier one exceeds this (up to
  // `placement_tries` positions are tried, then the object is left out).
  double max_overlap = 0.3;
  int placement_tries = 20;
  // Probability that an object may be placed partly outside the canvas (truncated, see
  // scene_composer.h).
  double truncation = 0;
  // Single centred item filling `centred_fill` of the shorter canvas side (the classification
  // presets); min/max_objects and sizes are ignored then.
  bool centred = false;
  double centred_fill = 0.8;
  Background background = Background::textured;
  int clutter_fragments = 6;  // cluttered background: faint item fragments
  bool colourise = true;      // items tinted with a random saturated colour (else grey)
  // A pixel belongs to an item when its (resized) Fashion-MNIST intensity exceeds this (0 … 255).
  // 40 keeps the faint halo of anti-aliased edges out of masks and boxes.
  int mask_threshold = 40;
  // Half-width in pixels of the void (255) band drawn around every object boundary in
  // SegmentationClass/SegmentationObject, as VOC does (its band is about 5 px wide); 0: none.
  int void_radius = 2;
};

struct DatasetConfig {
  std::string preset = "scenes";
  SceneConfig scene;
  int64_t count = 1000;
  uint64_t seed = 0;
  std::string source_split = "train";  // which Fashion-MNIST split items come from
  // ImageSets: the first `train_fraction` of the ids go to train, the rest to val (trainval = all).
  double train_fraction = 0.8;
  bool boxes = true;         // write objects in the XML (false: image labels only)
  bool segmentation = true;  // write SegmentationClass/SegmentationObject PNGs
  int jpeg_quality = 90;
  int png_compression = 3;  // zlib level: masks compress well already at low levels
};

// The study's roles:
//   "cls"    single centred items with image labels, no boxes (ImageNet-Cls analogue), train split
//   "loc"    the same items with their boxes (ImageNet-Loc analogue), train split
//   "scenes" cluttered multi-object scenes, 2–8 items (20% may be truncated), train split
//            (COCO / OpenImages analogue)
//   "voc"    small target sets: 1–4 items (15% may be truncated) on textured backgrounds from the
//            test split (VOC-like detection and segmentation)
// Unknown names are a value error listing these.
DatasetConfig preset(const std::string& name);
const std::vector<std::string>& preset_names();

// Errors name the field and value.
void validate(const DatasetConfig& config);

}  // namespace osprey::data::fashion_scenes
