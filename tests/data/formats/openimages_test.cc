// CSV splitting (quotes, escaped quotes, CRLF, block boundaries) and the OpenImages reader:
// columns by name, normalised boxes and flags, streaming groups, split-group detection, problems.
#include "data/formats/openimages.h"

#include <gtest/gtest.h>

#include "data/formats/csv.h"
#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::write_text;

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string_view> views;
  std::string scratch;
  if (!split_csv_line(line, views, scratch)) return {"<malformed>"};
  return {views.begin(), views.end()};
}

TEST(Csv, SplitsQuotedFields) {
  EXPECT_EQ(split("a,b,,c"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(split("a,"), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(split(R"x(/m/1,"Ball, (Object)","say ""hi""",x)x"),
            (std::vector<std::string>{"/m/1", "Ball, (Object)", "say \"hi\"", "x"}));
  EXPECT_EQ(split(R"("",b)"), (std::vector<std::string>{"", "b"}));
  EXPECT_EQ(split(R"("open,b)"), (std::vector<std::string>{"<malformed>"}));
  EXPECT_EQ(split(R"("a"b,c)"), (std::vector<std::string>{"<malformed>"}));
  EXPECT_EQ(split(R"(a"b,c)"), (std::vector<std::string>{"<malformed>"}));
}

class OpenImages : public testing::TempDirTest {
 protected:
  OpenImagesClasses classes() {
    write_text(dir_ / "classes.csv", "/m/cat,Cat\r\n/m/ball,\"Ball, (Object)\"\r\n");
    return read_openimages_classes(path("classes.csv"));
  }
  static constexpr const char* kHeader =
      "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,"
      "IsDepiction,IsInside\n";
};

TEST_F(OpenImages, ReadsClassesAndGroupsRowsByImage) {
  OpenImagesClasses c = classes();
  EXPECT_EQ(c.label_names, (std::vector<std::string>{"/m/cat", "/m/ball"}));
  EXPECT_EQ(c.display_names, (std::vector<std::string>{"Cat", "Ball, (Object)"}));
  write_text(dir_ / "boxes.csv", std::string(kHeader) +
                                     "img1,xclick,/m/cat,1,0.1,0.5,0.25,0.75,1,0,0,0,0\n"
                                     "img1,xclick,/m/ball,1,0,1,0,1,-1,1,1,-1,1\n"
                                     "img2,activemil,/m/cat,1,0.5,0.625,0.5,0.875,0,0,0,1,0\n");
  std::vector<AnnotatedImage> images;
  ReadReport report;
  int64_t rows = for_each_openimages_image(path("boxes.csv"), c, {}, report,
                                           [&](const AnnotatedImage& i) { images.push_back(i); });
  EXPECT_EQ(rows, 3);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].id, "img1");
  EXPECT_TRUE(images[0].normalized_boxes);
  ASSERT_EQ(images[0].objects.size(), 2u);
  EXPECT_EQ(images[0].objects[0].box, (std::array<float, 4>{0.1f, 0.25f, 0.5f, 0.75f}));
  EXPECT_TRUE(images[0].objects[0].occluded);
  EXPECT_FALSE(images[0].objects[0].group_of);
  EXPECT_FALSE(images[0].objects[0].depiction);
  EXPECT_FALSE(images[0].objects[0].inside);
  const Object& group = images[0].objects[1];
  EXPECT_EQ(group.class_id, 1);
  EXPECT_FALSE(group.occluded);  // -1: unknown
  EXPECT_TRUE(group.truncated);
  EXPECT_TRUE(group.group_of);
  EXPECT_TRUE(group.difficult);
  EXPECT_FALSE(group.depiction);  // -1: unknown
  EXPECT_TRUE(group.inside);
  EXPECT_TRUE(images[1].objects.at(0).depiction);
  EXPECT_FALSE(images[1].objects.at(0).inside);
  EXPECT_EQ(images[1].objects.at(0).box, (std::array<float, 4>{0.5f, 0.5f, 0.625f, 0.875f}));
  AnnotatedImage pixels = images[1];
  to_pixel_boxes(pixels, 64, 32);
  EXPECT_FALSE(pixels.normalized_boxes);
  EXPECT_EQ(pixels.width, 64);
  EXPECT_EQ(pixels.objects[0].box, (std::array<float, 4>{32, 16, 40, 28}));
  to_pixel_boxes(pixels, 64, 32);  // already pixels: unchanged
  EXPECT_EQ(pixels.objects[0].box, (std::array<float, 4>{32, 16, 40, 28}));
  EXPECT_EQ(report.total(), 0);
}

TEST_F(OpenImages, ColumnsAreFoundByName) {
  write_text(dir_ / "boxes.csv", "XMin,YMin,XMax,YMax,LabelName,ImageID\n0,0,1,0.5,/m/ball,a\n");
  ReadReport report;
  DetectionDataset d = read_openimages(path("boxes.csv"), classes(), {.check_image_files = false},
                                       report, path("img"));
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].objects.at(0).box, (std::array<float, 4>{0, 0, 1, 0.5f}));
  EXPECT_EQ(d.class_names[1], "Ball, (Object)");
  write_text(dir_ / "nolabel.csv", "ImageID,XMin,XMax,YMin,YMax\n");
  EXPECT_NE(error_message([&] {
              read_openimages(path("nolabel.csv"), classes(), {}, report);
            }).find("the header has no LabelName column"),
            std::string::npos);
}

TEST_F(OpenImages, ResumedImageRowsAreDetected) {
  write_text(dir_ / "boxes.csv", std::string(kHeader) +
                                     "a,s,/m/cat,1,0,1,0,1,0,0,0,0,0\n"
                                     "b,s,/m/cat,1,0,1,0,1,0,0,0,0,0\n"
                                     "a,s,/m/ball,1,0,1,0,1,0,0,0,0,0\n");
  ReadReport report;
  auto ignore = [](const AnnotatedImage&) {};
  EXPECT_NE(
      error_message(
          [&] { for_each_openimages_image(path("boxes.csv"), classes(), {}, report, ignore); })
          .find("boxes.csv:4: image rows not contiguous: rows of ImageID a resume after other "
                "images' rows"),
      std::string::npos);
  std::vector<std::string> ids;
  for_each_openimages_image(path("boxes.csv"), classes(), {.policy = ReadPolicy::repair}, report,
                            [&](const AnnotatedImage& i) { ids.push_back(i.id); });
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "a"}));
  EXPECT_EQ(report.count(ProblemKind::split_image_group), 1);
  // The in-memory reader merges the groups and has nothing to report.
  ReadReport merged;
  DetectionDataset d = read_openimages(path("boxes.csv"), classes(), {}, merged);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].objects.size(), 2u);
  EXPECT_EQ(merged.total(), 0);
}

TEST_F(OpenImages, ProblemsAreCountedUnderRepair) {
  write_text(dir_ / "img/a.jpg", "");
  write_text(dir_ / "boxes.csv", std::string(kHeader) +
                                     "a,s,/m/cat,1,-0.1,0.5,0,1.5,0,0,0,0,0\n"  // clipped
                                     "a,s,/m/dog,1,0,1,0,1,0,0,0,0,0\n"         // unknown
                                     "a,s,/m/cat,1,0.6,0.5,0,1,0,0,0,0,0\n"     // inverted
                                     "a,s,/m/cat,1,0.5,0.5,0,1,0,0,0,0,0\n"     // empty
                                     "a,s,/m/cat,1,x,0.5,0,1,0,0,0,0,0\n"       // malformed
                                     "a,s,/m/cat,1,0,0.5,0,1,0,0,2,0,0\n"       // bad flag
                                     "a,s,/m/cat,1,0,0.5,0,1\n"                 // field count
                                     "\"a,s,/m/cat,1,0,0.5,0,1,0,0,0,0,0\n"     // bad quote
                                     "b,s,/m/cat,1,0,0.5,0,1,0,0,0,0,0\n");     // no b.jpg
  ReadReport report;
  std::vector<AnnotatedImage> images;
  for_each_openimages_image(
      path("boxes.csv"), classes(), {.policy = ReadPolicy::repair}, report,
      [&](const AnnotatedImage& i) { images.push_back(i); }, path("img"));
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].image_path, path("img") + "/a.jpg");
  ASSERT_EQ(images[0].objects.size(), 1u);
  EXPECT_EQ(images[0].objects[0].box, (std::array<float, 4>{0, 0, 0.5f, 1}));
  EXPECT_EQ(report.count(ProblemKind::box_outside_image), 1);
  EXPECT_EQ(report.count(ProblemKind::unknown_class), 1);
  EXPECT_EQ(report.count(ProblemKind::inverted_box), 1);
  EXPECT_EQ(report.count(ProblemKind::empty_box), 1);
  EXPECT_EQ(report.count(ProblemKind::malformed_record), 4);
  EXPECT_EQ(report.count(ProblemKind::missing_image), 1);
  EXPECT_NE(report.summary().find("boxes.csv:8: 8 fields, the header has 13"), std::string::npos)
      << report.summary();
}

TEST_F(OpenImages, LongFilesCrossBlockBoundaries) {
  // 60000 rows (~3 MiB) over several 1 MiB blocks, 3 rows per image.
  std::string text = kHeader;
  for (int i = 0; i < 60000; ++i) {
    text += fmt::format("{:016x},xclick,{},1,0.{},0.9,0.1,0.8,0,0,0,0,0\r\n", i / 3,
                        i % 2 ? "/m/cat" : "/m/ball", i % 9);
  }
  write_text(dir_ / "big.csv", text);
  ReadReport report;
  int64_t images = 0, objects = 0;
  int64_t rows = for_each_openimages_image(path("big.csv"), classes(), {}, report,
                                           [&](const AnnotatedImage& i) {
                                             ++images;
                                             objects += static_cast<int64_t>(i.objects.size());
                                           });
  EXPECT_EQ(rows, 60000);
  EXPECT_EQ(images, 20000);
  EXPECT_EQ(objects, 60000);
}

}  // namespace
}  // namespace osprey::data
