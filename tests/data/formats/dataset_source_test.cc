// Format detection for every layout dataset_source.h lists, and dispatch through
// for_each_dataset_image (VOC07+12 as one comma-separated path, ImageNet-Loc, folders, lists).
#include "data/formats/dataset_source.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::voc_image;
using testing::write_text;
namespace fs = std::filesystem;

class DatasetSourceTest : public testing::TempDirTest {
 protected:
  std::vector<std::string> ids(const DatasetSource& source, DatasetInfo* info = nullptr) {
    std::vector<std::string> out;
    ReadReport report;
    DatasetInfo i = for_each_dataset_image(source, {}, report,
                                           [&](const AnnotatedImage& a) { out.push_back(a.id); });
    if (info) *info = i;
    return out;
  }
};

TEST_F(DatasetSourceTest, DetectsEveryLayout) {
  testing::write_voc_root(dir_ / "VOC2007", "trainval", {voc_image("1", 5, 5, {})});
  write_text(dir_ / "coco/annotations/instances_train2017.json", "{}");
  write_text(dir_ / "c.json", "{}");
  write_text(dir_ / "oi/train-annotations-bbox.csv", "");
  write_text(dir_ / "b.csv", "");
  write_text(dir_ / "loc/n01234567/n01234567_1.xml", "<annotation/>");
  write_text(dir_ / "caltech/001.ak47/1.jpg", "");
  write_text(dir_ / "list.txt", "");
  EXPECT_EQ(detect_dataset_format(path("VOC2007")), "voc");
  EXPECT_EQ(detect_dataset_format(path("coco")), "coco");
  EXPECT_EQ(detect_dataset_format(path("c.json")), "coco");
  EXPECT_EQ(detect_dataset_format(path("oi")), "openimages");
  EXPECT_EQ(detect_dataset_format(path("b.csv")), "openimages");
  EXPECT_EQ(detect_dataset_format(path("loc")), "imagenet-loc");
  EXPECT_EQ(detect_dataset_format(path("caltech")), "folders");
  write_text(dir_ / "flowers/imagelabels.mat", "");
  write_text(dir_ / "flowers/setid.mat", "");
  EXPECT_EQ(detect_dataset_format(path("flowers")), "flowers102");
  EXPECT_EQ(detect_dataset_format(path("list.txt")), "list");
  EXPECT_NE(error_message([&] { detect_dataset_format(path("nothing")); }).find("does not exist"),
            std::string::npos);
}

TEST_F(DatasetSourceTest, VocRootWithItsOwnClassesTxt) {
  // The layout osprey make-dataset writes: VOC files plus classes.txt with the set's own names.
  const std::vector<std::string> names = {"tshirt", "trouser"};
  const fs::path root = dir_ / "scenes";
  fs::create_directories(root / "Annotations");
  AnnotatedImage image = voc_image("1", 8, 8, {testing::object(1, 1, 1, 4, 4)});
  write_voc_annotation((root / "Annotations" / "1.xml").string(), image, names);
  write_text(root / "JPEGImages" / "1.jpg", "");
  write_text(root / "ImageSets" / "Main" / "trainval.txt", "1\n");
  write_text(root / "classes.txt", "tshirt\ntrouser\n");
  ReadReport report;
  std::vector<int> classes;
  const DatasetInfo info =
      for_each_dataset_image({.path = root.string()}, {}, report, [&](const AnnotatedImage& a) {
        for (const Object& o : a.objects) classes.push_back(o.class_id);
      });
  EXPECT_EQ(info.class_names, names);
  EXPECT_EQ(classes, std::vector<int>{1});
  EXPECT_EQ(report.total(), 0);
}

TEST_F(DatasetSourceTest, ReadsThroughOneEntryPoint) {
  testing::write_voc_root(dir_ / "VOC2007", "trainval", {voc_image("1", 5, 5, {})});
  testing::write_voc_root(dir_ / "VOC2012", "trainval", {voc_image("1", 5, 5, {})});
  DatasetInfo info;
  EXPECT_EQ(ids({.path = path("VOC2007") + "," + path("VOC2012")}, &info),
            (std::vector<std::string>{"VOC2007/1", "VOC2012/1"}));
  EXPECT_EQ(info.format, "voc");
  EXPECT_EQ(info.class_names.size(), 20u);
  testing::write_voc_root(dir_ / "VOC2007", "test", {voc_image("2", 5, 5, {})});
  EXPECT_EQ(ids({.path = path("VOC2007") + "," + path("VOC2007"), .split = "trainval,test"}),
            (std::vector<std::string>{"VOC2007/1", "VOC2007/2"}));
  EXPECT_NE(error_message([&] {
              ids({.path = path("VOC2007"), .split = "a,b"});
            }).find("1 roots but 2 splits ('a,b')"),
            std::string::npos);

  write_text(dir_ / "loc/n01234567/n01234567_1.xml",
             "<annotation><object><name>n01234567</name><bndbox><xmin>0</xmin><ymin>0</ymin>"
             "<xmax>1</xmax><ymax>1</ymax></bndbox></object></annotation>");
  write_text(dir_ / "loc/LOC_synset_mapping.txt", "n01234567 tench\n");
  EXPECT_EQ(ids({.path = path("loc")}, &info), (std::vector<std::string>{"n01234567/n01234567_1"}));
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"n01234567"}));

  write_text(dir_ / "caltech/001.ak47/1.jpg", "");
  EXPECT_EQ(ids({.path = path("caltech")}, &info), (std::vector<std::string>{"001.ak47/1.jpg"}));
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"ak47"}));

  write_text(dir_ / "l/img/x.png", "");
  write_text(dir_ / "l/split.txt", "img/x.png 2\n");
  EXPECT_EQ(ids({.path = path("l/split.txt")}, &info), (std::vector<std::string>{"img/x.png"}));
  EXPECT_EQ(info.format, "list");

  write_text(dir_ / "oi2/a-annotations-bbox.csv", "");
  write_text(dir_ / "oi2/b-annotations-bbox.csv", "");
  EXPECT_NE(
      error_message([&] {
        ids({.path = path("oi2")});
      }).find("2 files *-annotations-bbox.csv in " + path("oi2") + "; choose one with --split"),
      std::string::npos);
  EXPECT_NE(error_message([&] {
              ids({.path = path("oi2"), .format = "yaml"});
            }).find("unknown format 'yaml'"),
            std::string::npos);
}

}  // namespace
}  // namespace osprey::data
