// The Fashion-scenes composer in memory: determinism, boxes that frame the masks, the void band,
// the presets, and the VOC XML (1-based inclusive boxes).
#include <gtest/gtest.h>

#include <cmath>

#include "data/fashion_scenes/scene_composer.h"
#include "data/formats/voc.h"
#include "data/formats/xml.h"
#include "framework/core/error.h"
#include "tests/data/fashion_scenes_test_support.h"

namespace osprey::data::fashion_scenes {
namespace {

using testing::SyntheticItems;

TEST(FashionScenesCompose, SameSeedAndIndexGiveTheSameScene) {
  SyntheticItems items;
  SceneConfig config = preset("scenes").scene;
  Scene a = compose_scene(config, items.source(), 7, 3);
  Scene b = compose_scene(config, items.source(), 7, 3);
  EXPECT_EQ(a.image.pixels, b.image.pixels);
  EXPECT_EQ(a.class_mask.pixels, b.class_mask.pixels);
  EXPECT_EQ(a.objects.size(), b.objects.size());
  EXPECT_NE(compose_scene(config, items.source(), 7, 4).image.pixels, a.image.pixels);
  EXPECT_NE(compose_scene(config, items.source(), 8, 3).image.pixels, a.image.pixels);
}

TEST(FashionScenesCompose, MaskPixelsLieInsideTheirBoxes) {
  SyntheticItems items;
  for (const std::string& name : preset_names()) {
    SceneConfig config = preset(name).scene;
    int64_t objects = 0, void_pixels = 0;
    for (int64_t index = 0; index < 20; ++index) {
      Scene s = compose_scene(config, items.source(), 1, index);
      ASSERT_EQ(s.image.width, 256);
      ASSERT_EQ(s.image.channels, 3);
      if (config.centred) {
        ASSERT_EQ(s.objects.size(), 1u) << name;
        EXPECT_EQ(s.image_label, s.objects[0].class_id);
      } else {
        EXPECT_LE(int(s.objects.size()), config.max_objects);
        EXPECT_EQ(s.image_label, -1);
      }
      objects += int64_t(s.objects.size());
      for (int y = 0; y < 256; ++y) {
        for (int x = 0; x < 256; ++x) {
          const int o = s.object_mask.at(y, x, 0), c = s.class_mask.at(y, x, 0);
          if (o == 255) {
            EXPECT_EQ(c, 255);
            ++void_pixels;
            continue;
          }
          if (o == 0) {
            EXPECT_EQ(c, 0);
            continue;
          }
          ASSERT_LE(o, int(s.objects.size()));
          const Object& obj = s.objects[o - 1];
          EXPECT_EQ(c, obj.class_id + 1);
          EXPECT_TRUE(x >= obj.box[0] && x < obj.box[2] && y >= obj.box[1] && y < obj.box[3])
              << name << " image " << index << " pixel (" << x << ", " << y << ")";
        }
      }
      for (const Object& obj : s.objects) {  // boxes inside the canvas, tight on the mask
        EXPECT_GE(obj.box[0], 0);
        EXPECT_LE(obj.box[2], 256);
        EXPECT_LT(obj.box[0], obj.box[2]);
      }
    }
    EXPECT_GT(objects, 0) << name;
    EXPECT_GT(void_pixels, 0) << name;
  }
}

TEST(FashionScenesCompose, ObjectSizesSpanSmallToLarge) {
  SyntheticItems items;
  SceneConfig config = preset("scenes").scene;
  double smallest = 1e9, largest = 0;
  for (int64_t index = 0; index < 60; ++index) {
    for (const Object& o : compose_scene(config, items.source(), 2, index).objects) {
      const double a = std::sqrt((o.box[2] - o.box[0]) * (o.box[3] - o.box[1]));
      smallest = std::min(smallest, a);
      largest = std::max(largest, a);
    }
  }
  EXPECT_LT(smallest, 32);  // SNIPER's finest range
  EXPECT_GT(largest, 120);  // ... and its coarsest
}

TEST(FashionScenesCompose, TruncatedObjectsKeepTheirVisibleBox) {
  SyntheticItems items;
  SceneConfig config = preset("voc").scene;
  config.truncation = 1;
  int truncated = 0, objects = 0;
  for (int64_t index = 0; index < 30; ++index) {
    Scene s = compose_scene(config, items.source(), 9, index);
    for (size_t k = 0; k < s.objects.size(); ++k) {
      const Object& o = s.objects[k];
      EXPECT_GE(o.box[0], 0);
      EXPECT_GE(o.box[1], 0);
      EXPECT_LE(o.box[2], 256);
      EXPECT_LE(o.box[3], 256);
      ++objects;
      truncated += o.truncated ? 1 : 0;
      // A box that touches no canvas edge cannot have been cut by the canvas.
      if (o.box[0] > 0 && o.box[1] > 0 && o.box[2] < 256 && o.box[3] < 256) {
        EXPECT_FALSE(o.truncated);
      }
    }
  }
  EXPECT_GT(truncated, 0);
  EXPECT_LT(truncated, objects);
  config.truncation = 0;
  for (int64_t index = 0; index < 10; ++index) {
    for (const Object& o : compose_scene(config, items.source(), 9, index).objects) {
      EXPECT_FALSE(o.truncated);
    }
  }
}

TEST(FashionScenesCompose, VocXmlUsesOneBasedInclusiveBoxes) {
  AnnotatedImage image;
  image.id = "000007";
  image.width = 256;
  image.height = 200;
  Object o;
  o.box = {10, 20, 50, 80};  // pixels 10…49 × 20…79
  o.class_id = 1;
  image.objects.push_back(o);
  std::string xml = voc_annotation_xml(
      image, {"a&b", "trouser"}, {.folder = "FashionScenes", .database = "", .segmented = true});
  EXPECT_NE(xml.find("<filename>000007.jpg</filename>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<width>256</width>"), std::string::npos);
  EXPECT_NE(xml.find("<segmented>1</segmented>"), std::string::npos);
  EXPECT_NE(xml.find("<name>trouser</name>"), std::string::npos);
  EXPECT_NE(xml.find("<xmin>11</xmin>"), std::string::npos);
  EXPECT_NE(xml.find("<ymin>21</ymin>"), std::string::npos);
  EXPECT_NE(xml.find("<xmax>50</xmax>"), std::string::npos);
  EXPECT_NE(xml.find("<ymax>80</ymax>"), std::string::npos);
  EXPECT_NE(xml.find("<folder>FashionScenes</folder>"), std::string::npos);
  EXPECT_EQ(xml.find("<source>"), std::string::npos);  // no database given
  EXPECT_EQ(xml::escape("a&b<c>"), "a&amp;b&lt;c&gt;");
  image.objects[0].class_id = 5;
  EXPECT_THROW(voc_annotation_xml(image, {"a", "b"}), osprey::Error);
}

TEST(FashionScenesCompose, PresetsAndBadConfigs) {
  EXPECT_EQ(preset("voc").source_split, "test");
  EXPECT_FALSE(preset("cls").boxes);
  EXPECT_TRUE(preset("loc").boxes);
  try {
    preset("coco");
    FAIL() << "no error";
  } catch (const osprey::Error& e) {
    EXPECT_EQ(e.message(), "fashion-scenes: unknown preset 'coco' (known: cls, loc, scenes, voc)");
  }
  DatasetConfig config = preset("scenes");
  config.scene.max_size = 300;
  EXPECT_THROW(validate(config), osprey::Error);
  config = preset("scenes");
  config.scene.min_objects = 9;
  EXPECT_THROW(validate(config), osprey::Error);
}

}  // namespace
}  // namespace osprey::data::fashion_scenes
