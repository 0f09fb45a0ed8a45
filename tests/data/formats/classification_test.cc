// Classification sets: folder per class (Caltech-256 names), list files with index labels, name
// labels, SUN-397 parent-folder labels and a class file, and their problems.
#include "data/formats/classification.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::write_text;

class Classification : public testing::TempDirTest {};

TEST_F(Classification, FolderPerClass) {
  write_text(dir_ / "c256/002.american-flag/002_0001.JPG", "");
  write_text(dir_ / "c256/001.ak47/001_0002.jpg", "");
  write_text(dir_ / "c256/001.ak47/001_0001.jpg", "");
  write_text(dir_ / "c256/001.ak47/notes.txt", "");
  write_text(dir_ / "c256/README", "");
  ReadReport report;
  EXPECT_NE(testing::error_message([&] {
              read_class_folders(path("c256"), {}, report);
            }).find("README: not an image file"),
            std::string::npos);
  DetectionDataset d = read_class_folders(path("c256"), {.policy = ReadPolicy::repair}, report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ak47", "american-flag"}));
  ASSERT_EQ(d.images.size(), 3u);
  EXPECT_EQ(d.images[0].id, "001.ak47/001_0001.jpg");
  EXPECT_EQ(d.images[0].image_label, 0);
  EXPECT_EQ(d.images[2].image_label, 1);
  EXPECT_TRUE(d.images[2].objects.empty());
  EXPECT_EQ(report.count(ProblemKind::not_an_image), 2);
}

TEST_F(Classification, ListWithIndexLabels) {
  write_text(dir_ / "jpg/image_00001.jpg", "");
  write_text(dir_ / "jpg/image_00002.jpg", "");
  write_text(dir_ / "trn.txt", "jpg/image_00001.jpg 76\n\njpg/image_00002.jpg 3\n");
  ReadReport report;
  DetectionDataset d = read_class_list(path("trn.txt"), path(""), "", {}, report);
  EXPECT_EQ(d.class_names.size(), 77u);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].image_label, 76);
  EXPECT_EQ(d.images[1].image_path, path("jpg/image_00002.jpg"));
}

TEST_F(Classification, SunStyleListWithClassFile) {
  write_text(dir_ / "SUN397/a/abbey/sun_a.jpg", "");
  write_text(dir_ / "SUN397/b/bakery/shop/sun_b.jpg", "");
  write_text(dir_ / "ClassName.txt", "/a/abbey\n/b/bakery/shop\n");
  write_text(dir_ / "Training_01.txt",
             "/b/bakery/shop/sun_b.jpg\n/a/abbey/sun_a.jpg\n/z/zoo/sun_c.jpg\n/a/abbey/x.jpg\n"
             "a b c\n");
  ReadReport report;
  DetectionDataset d =
      read_class_list(path("Training_01.txt"), path("SUN397"), path("ClassName.txt"),
                      {.policy = ReadPolicy::repair}, report);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].image_label, 1);
  EXPECT_EQ(d.images[1].image_label, 0);
  EXPECT_EQ(d.images[1].image_path, path("SUN397/a/abbey/sun_a.jpg"));
  EXPECT_EQ(report.count(ProblemKind::unknown_class), 1);
  EXPECT_EQ(report.count(ProblemKind::missing_image), 1);
  EXPECT_EQ(report.count(ProblemKind::malformed_record), 1);
  // Without the class file the names are discovered, sorted.
  write_text(dir_ / "names.txt", "a/abbey/sun_a.jpg abbey\nb/bakery/shop/sun_b.jpg bakery\n");
  d = read_class_list(path("names.txt"), path("SUN397"), "", {}, report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"abbey", "bakery"}));
  EXPECT_EQ(d.images[1].image_label, 1);
}

}  // namespace
}  // namespace osprey::data
