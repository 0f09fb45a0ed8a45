// VOC reader: the 1-based → continuous conversion and its inverse, split files, VOC07+12
// concatenation with unique ids, segmentation masks, and every problem under strict and repair.
#include "data/formats/voc.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::object;
using testing::voc_image;
using testing::write_text;

class Voc : public testing::TempDirTest {};

constexpr int kCat = 7, kDog = 11, kPerson = 14;

TEST(VocBox, ConvertsOneBasedInclusiveToContinuousAndBack) {
  // The whole 500×375 image: columns 1..500 become [0, 500).
  EXPECT_EQ(voc_to_box({1, 1, 500, 375}), (std::array<float, 4>{0, 0, 500, 375}));
  EXPECT_EQ(voc_to_box({48, 240, 195, 371}), (std::array<float, 4>{47, 239, 195, 371}));
  EXPECT_EQ(box_to_voc({47, 239, 195, 371}), (std::array<double, 4>{48, 240, 195, 371}));
  EXPECT_EQ(voc_class_names().size(), 20u);
  EXPECT_EQ(voc_class_names()[kDog], "dog");
}

TEST_F(Voc, ReadsWhatWasWritten) {
  testing::write_voc_root(
      dir_ / "VOC2007", "trainval",
      {voc_image("000001", 500, 375,
                 {object(kDog, 47, 239, 195, 371), object(kPerson, 7, 11, 352, 375, true)}),
       voc_image("000002", 300, 200, {})});
  ReadReport report;
  DetectionDataset d = read_voc({{path("VOC2007"), "trainval"}}, {}, report);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.name, "VOC2007/trainval");
  EXPECT_EQ(d.images[0].id, "000001");
  EXPECT_EQ(d.images[0].image_path, path("VOC2007") + "/JPEGImages/000001.jpg");
  EXPECT_EQ(d.images[0].width, 500);
  EXPECT_EQ(d.images[0].height, 375);
  ASSERT_EQ(d.images[0].objects.size(), 2u);
  EXPECT_EQ(d.images[0].objects[0].box, (std::array<float, 4>{47, 239, 195, 371}));
  EXPECT_EQ(d.images[0].objects[0].class_id, kDog);
  EXPECT_FALSE(d.images[0].objects[0].difficult);
  EXPECT_TRUE(d.images[0].objects[1].difficult);
  EXPECT_TRUE(d.images[1].objects.empty());
  EXPECT_EQ(report.total(), 0);
  // The file holds 1-based pixels.
  std::ifstream xml(path("VOC2007/Annotations/000001.xml"));
  std::string text((std::istreambuf_iterator<char>(xml)), {});
  EXPECT_NE(text.find("<xmin>48</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax>"),
            std::string::npos)
      << text;
}

TEST_F(Voc, ConcatenatesRootsWithUniqueIds) {
  testing::write_voc_root(dir_ / "VOC2007", "trainval",
                          {voc_image("000001", 50, 50, {object(kCat, 0, 0, 10, 10)})});
  testing::write_voc_root(dir_ / "VOC2012", "trainval",
                          {voc_image("000001", 60, 40, {}), voc_image("2008_000002", 9, 9, {})});
  ReadReport report;
  DetectionDataset d =
      read_voc({{path("VOC2007"), "trainval"}, {path("VOC2012") + "/", "trainval"}}, {}, report);
  ASSERT_EQ(d.images.size(), 3u);
  EXPECT_EQ(d.images[0].id, "VOC2007/000001");
  EXPECT_EQ(d.images[1].id, "VOC2012/000001");
  EXPECT_EQ(d.images[1].width, 60);
  EXPECT_EQ(d.images[2].id, "VOC2012/2008_000002");
  EXPECT_EQ(d.name, "VOC2007/trainval+VOC2012/trainval");
  // The same root twice: every id is a duplicate.
  EXPECT_NE(error_message([&] {
              read_voc({{path("VOC2007")}, {path("VOC2007")}}, {}, report);
            }).find("duplicate image id: image id VOC2007/000001 read before"),
            std::string::npos);
  ReadReport repaired;
  d = read_voc({{path("VOC2007")}, {path("VOC2007")}}, {.policy = ReadPolicy::repair}, repaired);
  EXPECT_EQ(d.images.size(), 1u);
  EXPECT_EQ(repaired.count(ProblemKind::duplicate_image), 1);
}

TEST_F(Voc, SegmentationSplitHasMaskPaths) {
  testing::write_voc_root(dir_ / "VOC2012", "train", {voc_image("a", 5, 5, {})});
  write_text(dir_ / "VOC2012/ImageSets/Segmentation/val.txt", "a\nb\n");
  write_text(dir_ / "VOC2012/JPEGImages/b.jpg", "");
  write_text(dir_ / "VOC2012/SegmentationClass/a.png", "");
  ReadReport report;
  ReadOptions repair{.policy = ReadPolicy::repair};
  DetectionDataset d = read_voc({{path("VOC2012"), "val", VocTask::segmentation}}, repair, report);
  // b has no mask: dropped and counted; a has its XML (size) and its mask.
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].mask_path, path("VOC2012") + "/SegmentationClass/a.png");
  EXPECT_EQ(d.images[0].width, 5);
  EXPECT_EQ(report.count(ProblemKind::missing_image), 1);
  EXPECT_NE(report.examples(ProblemKind::missing_image)[0].find("SegmentationClass/b.png"),
            std::string::npos);
}

// One image with every kind of bad object; the XML is written by hand.
TEST_F(Voc, ProblemsFailStrictAndAreCountedUnderRepair) {
  auto obj = [](const std::string& name, const std::string& box, const std::string& extra = "") {
    return "<object><name>" + name + "</name>" + extra + "<bndbox>" + box + "</bndbox></object>\n";
  };
  auto box = [](int a, int b, int c, int d) {
    return "<xmin>" + std::to_string(a) + "</xmin><ymin>" + std::to_string(b) + "</ymin><xmax>" +
           std::to_string(c) + "</xmax><ymax>" + std::to_string(d) + "</ymax>";
  };
  write_text(dir_ / "VOC/Annotations/x.xml",
             "<annotation>\n<size><width>100</width><height>80</height></size>\n" +
                 obj("dog", box(1, 1, 100, 80)) + obj("dog", box(50, 10, 120, 90)) +
                 obj("dog", box(60, 10, 40, 20)) + obj("unicorn", box(1, 1, 5, 5)) +
                 obj("cat", "<xmin>a</xmin>") +
                 obj("cat", box(1, 1, 5, 5), "<difficult>2</difficult>") + "</annotation>\n");
  write_text(dir_ / "VOC/Annotations/bad.xml", "<annotation><object></annotation>");
  write_text(dir_ / "VOC/ImageSets/Main/all.txt", "x\nbad\nnoxml\nx\n");
  write_text(dir_ / "VOC/JPEGImages/x.jpg", "");

  ReadReport unused;
  std::string strict = error_message([&] { (void)read_voc({{path("VOC"), "all"}}, {}, unused); });
  EXPECT_NE(strict.find(path("VOC") + "/Annotations/x.xml:4 object 2 ('dog'): box outside image: "
                                      "box (49, 9, 120, 90) outside the 100x80 image"),
            std::string::npos)
      << strict;

  ReadReport report;
  DetectionDataset d = read_voc({{path("VOC"), "all"}}, {.policy = ReadPolicy::repair}, report);
  ASSERT_EQ(d.images.size(), 1u);
  ASSERT_EQ(d.images[0].objects.size(), 2u);
  EXPECT_EQ(d.images[0].objects[0].box, (std::array<float, 4>{0, 0, 100, 80}));
  EXPECT_EQ(d.images[0].objects[1].box, (std::array<float, 4>{49, 9, 100, 80}));  // clipped
  EXPECT_EQ(report.count(ProblemKind::box_outside_image), 1);
  EXPECT_EQ(report.count(ProblemKind::inverted_box), 1);
  EXPECT_EQ(report.count(ProblemKind::unknown_class), 1);
  EXPECT_EQ(report.count(ProblemKind::malformed_record), 3);  // bad box, bad flag, bad.xml
  EXPECT_EQ(report.count(ProblemKind::missing_annotation), 1);
  EXPECT_EQ(report.count(ProblemKind::duplicate_image), 1);
  EXPECT_EQ(report.total(), 8);
  std::string summary = report.summary();
  EXPECT_NE(summary.find("unknown class: 1 (object dropped)\n    " + path("VOC") +
                         "/Annotations/x.xml:6 object 4 ('unicorn'): 'unicorn' is not one of the "
                         "20 classes"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("bad.xml:1: mismatched tag"), std::string::npos) << summary;
}

// The devkit's own layout: source/owner blocks, pose, segmented, and person parts whose boxes
// must not be taken for the object's.
TEST_F(Voc, ReadsDevkitXmlWithParts) {
  write_text(dir_ / "VOC2012/Annotations/2007_000027.xml", R"(<annotation>
	<folder>VOC2012</folder>
	<filename>2007_000027.jpg</filename>
	<source><database>The VOC2007 Database</database><image>flickr</image></source>
	<size><width>486</width><height>500</height><depth>3</depth></size>
	<segmented>0</segmented>
	<object>
		<name>person</name>
		<pose>Unspecified</pose>
		<truncated>0</truncated>
		<difficult>0</difficult>
		<bndbox><xmin>174</xmin><ymin>101</ymin><xmax>349</xmax><ymax>351</ymax></bndbox>
		<part><name>head</name>
			<bndbox><xmin>169</xmin><ymin>104</ymin><xmax>209</xmax><ymax>146</ymax></bndbox>
		</part>
	</object>
</annotation>
)");
  ReadReport report;
  auto image = read_voc_annotation(path("VOC2012/Annotations/2007_000027.xml"), voc_class_names(),
                                   {}, report);
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->width, 486);
  ASSERT_EQ(image->objects.size(), 1u);
  EXPECT_EQ(image->objects[0].class_id, kPerson);
  EXPECT_EQ(image->objects[0].box, (std::array<float, 4>{173, 100, 349, 351}));
}

TEST_F(Voc, MissingImageFileIsAProblemUnlessUnchecked) {
  testing::write_voc_root(dir_ / "V", "s", {voc_image("a", 5, 5, {})});
  std::filesystem::remove(dir_ / "V/JPEGImages/a.jpg");
  ReadReport report;
  EXPECT_NE(error_message([&] {
              (void)read_voc({{path("V"), "s"}}, {}, report);
            }).find("missing image file: a: no file " + path("V") + "/JPEGImages/a.jpg"),
            std::string::npos);
  EXPECT_EQ(read_voc({{path("V"), "s"}}, {.check_image_files = false}, report).images.size(), 1u);
  EXPECT_NE(error_message([&] {
              (void)read_voc({{path("V"), "nosplit"}}, {}, report);
            }).find("cannot open split file"),
            std::string::npos);
}

}  // namespace
}  // namespace osprey::data
