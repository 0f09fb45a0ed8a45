// The Fashion-scenes dataset on disk: the VOC layout, XML boxes against the decoded masks, and
// determinism (same seed → the same bytes; 1 and 2 threads write identical files).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "data/fashion_scenes/fashion_scenes.h"
#include "data/image/codec.h"
#include "tests/data/data_test_support.h"
#include "tests/data/fashion_scenes_test_support.h"

namespace osprey::data::fashion_scenes {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDirTest;
using testing::SyntheticItems;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines(const fs::path& path) {
  std::vector<std::string> out;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// (name, xmin, ymin, xmax, ymax) of each <object> in a VOC XML.
struct XmlBox {
  std::string name;
  int xmin, ymin, xmax, ymax;
};
std::vector<XmlBox> xml_boxes(const std::string& xml) {
  static const std::regex object(
      "<name>([^<]*)</name>[\\s\\S]*?<xmin>(\\d+)</xmin>\\s*<ymin>(\\d+)</ymin>\\s*<xmax>(\\d+)</"
      "xmax>\\s*<ymax>(\\d+)</ymax>");
  std::vector<XmlBox> boxes;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), object); it != std::sregex_iterator();
       ++it) {
    boxes.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4]),
                     std::stoi((*it)[5])});
  }
  return boxes;
}

// Every regular file under `root`, relative path → bytes.
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file())
      files[fs::relative(entry.path(), root).string()] = read_text(entry.path());
  }
  return files;
}

class FashionScenesWriter : public TempDirTest {};

TEST_F(FashionScenesWriter, WritesAVocLayoutWhoseBoxesFrameTheMasks) {
  SyntheticItems items;
  DatasetConfig config = preset("voc");
  config.count = 12;
  config.seed = 5;
  WriteStats stats = write_dataset(config, items.source(), path("voc"), 2);
  EXPECT_EQ(stats.images, 12);
  const fs::path root = path("voc");
  EXPECT_EQ(lines(root / "ImageSets/Main/train.txt").size(), 10u);  // round(0.8 · 12)
  EXPECT_EQ(lines(root / "ImageSets/Main/val.txt"), (std::vector<std::string>{"000010", "000011"}));
  EXPECT_EQ(lines(root / "ImageSets/Main/trainval.txt").size(), 12u);
  EXPECT_EQ(lines(root / "ImageSets/Segmentation/val.txt").size(), 2u);
  EXPECT_EQ(lines(root / "ImageSets/Main/trouser_trainval.txt").size(), 12u);
  EXPECT_EQ(lines(root / "classes.txt"), class_names());
  EXPECT_FALSE(fs::exists(root / "labels.txt"));

  int64_t objects = 0;
  const std::vector<PaletteColour> palette = voc_palette();
  for (int i = 0; i < 12; ++i) {
    const std::string id = fmt::format("{:06d}", i);
    Image jpeg = read_image((root / "JPEGImages" / (id + ".jpg")).string());
    EXPECT_EQ(jpeg.width, 256);
    EXPECT_EQ(jpeg.channels, 3);
    std::vector<XmlBox> boxes = xml_boxes(read_text(root / "Annotations" / (id + ".xml")));
    objects += int64_t(boxes.size());
    DecodeOptions indices;
    indices.palette_indices = true;
    Image cls = read_image((root / "SegmentationClass" / (id + ".png")).string(), indices);
    Image obj = read_image((root / "SegmentationObject" / (id + ".png")).string(), indices);
    ASSERT_EQ(cls.channels, 1);
    ASSERT_EQ(obj.width, 256);
    for (int y = 0; y < 256; ++y) {
      for (int x = 0; x < 256; ++x) {
        const int o = obj.at(y, x, 0);
        if (o == 0 || o == 255) continue;
        ASSERT_LE(o, int(boxes.size())) << id;
        const XmlBox& b = boxes[o - 1];
        // 1-based inclusive: pixel x (0-based) lies in [xmin − 1, xmax − 1].
        EXPECT_TRUE(x >= b.xmin - 1 && x <= b.xmax - 1 && y >= b.ymin - 1 && y <= b.ymax - 1)
            << id << " pixel (" << x << ", " << y << ") of object " << o;
        EXPECT_EQ(class_names()[cls.at(y, x, 0) - 1], b.name);
      }
    }
    // The mask reaches every side of its box: the boxes are tight.
    for (size_t k = 0; k < boxes.size(); ++k) {
      int x0 = 256, x1 = -1;
      for (int y = 0; y < 256; ++y) {
        for (int x = 0; x < 256; ++x) {
          if (obj.at(y, x, 0) == k + 1) x0 = std::min(x0, x), x1 = std::max(x1, x);
        }
      }
      if (x1 < 0) continue;  // fully occluded or all void
      EXPECT_GE(x0, boxes[k].xmin - 1);
      EXPECT_LE(x1, boxes[k].xmax - 1);
    }
  }
  EXPECT_EQ(objects, stats.objects);
  EXPECT_GT(objects, 12);
}

TEST_F(FashionScenesWriter, SameSeedSameBytesAtAnyThreadCount) {
  SyntheticItems items;
  DatasetConfig config = preset("scenes");
  config.count = 10;
  config.seed = 3;
  write_dataset(config, items.source(), path("one"), 1);
  write_dataset(config, items.source(), path("two"), 2);
  auto one = tree(path("one")), two = tree(path("two"));
  EXPECT_EQ(one.size(), 10u * 4 + 3 + 3 * 10 + 3 + 1);  // jpg, xml, 2 png; image sets; classes
  EXPECT_TRUE(one == two);
  config.seed = 4;
  write_dataset(config, items.source(), path("other"), 2);
  EXPECT_NE(tree(path("other"))["JPEGImages/000000.jpg"], one["JPEGImages/000000.jpg"]);
}

TEST_F(FashionScenesWriter, ClassificationPresetWritesImageLabels) {
  SyntheticItems items;
  DatasetConfig config = preset("cls");
  config.count = 6;
  write_dataset(config, items.source(), path("cls"), 2);
  std::vector<std::string> labels = lines(fs::path(path("cls")) / "labels.txt");
  ASSERT_EQ(labels.size(), 6u);
  EXPECT_EQ(labels[0].substr(0, 7), "000000 ");
  EXPECT_TRUE(xml_boxes(read_text(fs::path(path("cls")) / "Annotations/000000.xml")).empty());
  EXPECT_FALSE(fs::exists(fs::path(path("cls")) / "SegmentationClass"));
}

}  // namespace
}  // namespace osprey::data::fashion_scenes
