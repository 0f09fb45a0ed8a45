// ImageNet-Loc reader: synset folders and the flat val layout, classes from the mapping file or
// the folders, 0-based inclusive boxes, missing images.
#include "data/formats/imagenet_loc.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::write_text;

class ImageNetLoc : public testing::TempDirTest {
 protected:
  static std::string xml(const std::string& synset, int xmin, int ymin, int xmax, int ymax) {
    return fmt::format(
        "<annotation><size><width>100</width><height>80</height></size><object><name>{}</name>"
        "<bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}</xmax><ymax>{}</ymax></bndbox></object>"
        "</annotation>",
        synset, xmin, ymin, xmax, ymax);
  }
  void SetUp() override {
    TempDirTest::SetUp();
    write_text(dir_ / "ann/n02/n02_1.xml", xml("n02", 0, 0, 99, 79));
    write_text(dir_ / "ann/n01/n01_7.xml", xml("n01", 10, 20, 30, 40));
    write_text(dir_ / "ann/val_1.xml", xml("n02", 5, 5, 6, 6));
    write_text(dir_ / "img/n02/n02_1.JPEG", "");
    write_text(dir_ / "img/n01/n01_7.JPEG", "");
    write_text(dir_ / "img/val_1.JPEG", "");
  }
};

TEST_F(ImageNetLoc, ReadsSynsetFoldersAndFlatFiles) {
  ReadReport report;
  ImageNetLocDataset r = read_imagenet_loc({path("ann"), path("img"), ""}, {}, report);
  const DetectionDataset& d = r.dataset;
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"n01", "n02"}));
  ASSERT_EQ(d.images.size(), 3u);
  EXPECT_EQ(d.images[0].id, "n01/n01_7");
  EXPECT_EQ(d.images[0].image_path, path("img") + "/n01/n01_7.JPEG");
  EXPECT_EQ(d.images[0].objects.at(0).box, (std::array<float, 4>{10, 20, 31, 41}));
  EXPECT_EQ(d.images[0].objects.at(0).class_id, 0);
  EXPECT_EQ(d.images[1].objects.at(0).box, (std::array<float, 4>{0, 0, 100, 80}));  // whole image
  EXPECT_EQ(d.images[2].id, "val_1");
  EXPECT_EQ(d.images[2].objects.at(0).class_id, 1);
  EXPECT_EQ(report.total(), 0);
}

TEST_F(ImageNetLoc, MappingFileOrdersClasses) {
  write_text(dir_ / "map.txt", "n02 goldfish, Carassius auratus\nn01 tench, Tinca tinca\n");
  ReadReport report;
  ImageNetLocDataset r = read_imagenet_loc({path("ann"), "", path("map.txt")}, {}, report);
  EXPECT_EQ(r.dataset.class_names, (std::vector<std::string>{"n02", "n01"}));
  EXPECT_EQ(r.descriptions[1], "tench, Tinca tinca");
  EXPECT_EQ(r.dataset.images[0].objects.at(0).class_id, 1);
  EXPECT_TRUE(r.dataset.images[0].image_path.empty());
  write_text(dir_ / "dup.txt", "n01 a\nn01 b\n");
  EXPECT_NE(error_message([&] {
              read_synset_mapping(path("dup.txt"));
            }).find("dup.txt:2: synset n01 repeated"),
            std::string::npos);
}

TEST_F(ImageNetLoc, ProblemsUnderRepair) {
  std::filesystem::remove(dir_ / "img/val_1.JPEG");
  write_text(dir_ / "ann/n01/n01_8.xml", xml("n99", 1, 1, 2, 2));
  ReadReport report;
  ImageNetLocDataset r =
      read_imagenet_loc({path("ann"), path("img"), ""}, {.policy = ReadPolicy::repair}, report);
  EXPECT_EQ(r.dataset.images.size(), 2u);  // n01_8 has no JPEG either
  EXPECT_EQ(report.count(ProblemKind::unknown_class), 1);
  EXPECT_EQ(report.count(ProblemKind::missing_image), 2);
}

}  // namespace
}  // namespace osprey::data
