// Composition of one Fashion-scenes image in memory: a background, then items drawn one after the
// other (later ones occlude earlier ones), with their exact boxes and per-pixel masks.
//
// An item is its 28×28 Fashion-MNIST image resized bilinearly to a w×h frame; its intensity I (0 …
// 255) is both its alpha (I / 255) and its shading: colour · (0.3 + 0.7 · I / 255) is blended over
// the background. Its mask is the set of frame pixels with I > mask_threshold, and its box the
// tight box of that mask (before any occlusion, as VOC boxes frame the whole object), in the
// continuous convention of annotation.h: pixel columns xmin … xmax give x1 = xmin, x2 = xmax + 1.
// Items whose mask is empty are not drawn. With probability `truncation` an object's frame may
// leave the canvas by up to half its width and height (VOC's truncated objects): its box is then
// the tight box of the mask pixels that remain on the canvas, and `truncated` is set when the
// canvas cut the mask.
//
// Masks: `class_mask` holds class + 1 (0 = background), `object_mask` the object's index + 1, and
// both hold 255 (void) in a band of void_radius pixels around every boundary between different
// objects or an object and the background, as VOC's SegmentationClass and SegmentationObject do.
// Hence every non-void pixel of object k lies inside box k.
//
// Every random choice comes from Philox keyed by the seed with counter (index, draw, stream): an
// image is a pure function of (config, items, seed, index), whatever thread makes it.
#pragma once

#include <cstdint>
#include <vector>

#include "data/detection/annotation.h"
#include "data/fashion_scenes/scene_config.h"
#include "data/image/image.h"

namespace osprey::data::fashion_scenes {

// Fashion-MNIST items: `count` 28×28 u8 images back to back and their labels.
struct ItemSource {
  const uint8_t* images = nullptr;
  const int64_t* labels = nullptr;
  int64_t count = 0;
};

struct Scene {
  Image image;        // RGB, width × height
  Image class_mask;   // 1 channel (see above)
  Image object_mask;  // 1 channel
  std::vector<Object> objects;
  std::vector<int64_t> item_ids;  // the Fashion-MNIST index of each object
  int image_label = -1;           // centred scenes: the item's class
};

Scene compose_scene(const SceneConfig& config, const ItemSource& items, uint64_t seed,
                    int64_t index);

}  // namespace osprey::data::fashion_scenes
