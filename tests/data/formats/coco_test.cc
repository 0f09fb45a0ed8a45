// COCO reader: contiguous classes from sparse category ids, xywh → x1y1x2y2, crowd flags,
// segmentation skipped, and the problems under strict and repair.
#include "data/formats/coco.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::write_text;

class Coco : public testing::TempDirTest {
 protected:
  // Categories 18 (dog) and 1 (person) out of order; three images, the third without boxes.
  std::string write_json(const std::string& extra_annotations = "") {
    write_text(dir_ / "ann.json", R"({"info": {}, "categories": [{"id": 18, "name": "dog"},
      {"id": 1, "name": "person"}],
      "images": [{"id": 42, "file_name": "a.jpg", "width": 640, "height": 480},
                 {"id": 7, "file_name": "b.jpg", "width": 100, "height": 50},
                 {"id": 9, "file_name": "c.jpg", "width": 10, "height": 10}],
      "annotations": [
        {"id": 1, "image_id": 42, "category_id": 18, "bbox": [10.5, 20, 100, 50.25],
         "iscrowd": 0, "segmentation": [[1, 2, 3, 4, 5, 6]], "area": 5000},
        {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 100, 50], "iscrowd": 1,
         "segmentation": {"counts": [1, 2], "size": [50, 100]}},
        {"id": 3, "image_id": 42, "category_id": 1, "bbox": [0, 0, 1, 1], "iscrowd": 0})" +
                                      extra_annotations + "]}");
    for (const char* f : {"a.jpg", "b.jpg", "c.jpg"}) write_text(dir_ / "img" / f, "");
    return path("ann.json");
  }
};

TEST_F(Coco, ReadsImagesClassesAndBoxes) {
  ReadReport report;
  CocoDataset c = read_coco(write_json(), path("img"), {}, report);
  EXPECT_EQ(c.dataset.class_names, (std::vector<std::string>{"person", "dog"}));
  EXPECT_EQ(c.category_ids, (std::vector<int64_t>{1, 18}));
  ASSERT_EQ(c.dataset.images.size(), 3u);
  const AnnotatedImage& a = c.dataset.images[0];
  EXPECT_EQ(a.id, "42");
  EXPECT_EQ(a.image_path, path("img") + "/a.jpg");
  EXPECT_EQ(a.width, 640);
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].class_id, 1);
  EXPECT_EQ(a.objects[0].box, (std::array<float, 4>{10.5f, 20, 110.5f, 70.25f}));
  EXPECT_FALSE(a.objects[0].group_of);
  EXPECT_EQ(a.objects[1].class_id, 0);
  const Object& crowd = c.dataset.images[1].objects.at(0);
  EXPECT_TRUE(crowd.group_of);
  EXPECT_TRUE(crowd.difficult);
  EXPECT_EQ(crowd.box, (std::array<float, 4>{0, 0, 100, 50}));
  EXPECT_TRUE(c.dataset.images[2].objects.empty());
  EXPECT_EQ(report.total(), 0);
}

TEST_F(Coco, ProblemsFailStrictAndAreCountedUnderRepair) {
  std::string json = write_json(R"(,
    {"id": 4, "image_id": 42, "category_id": 5, "bbox": [0, 0, 1, 1]},
    {"id": 5, "image_id": 1000, "category_id": 1, "bbox": [0, 0, 1, 1]},
    {"id": 6, "image_id": 7, "category_id": 1, "bbox": [0, 0, 1]},
    {"id": 7, "image_id": 7, "category_id": 1, "bbox": [90, 40, 20, 20]},
    {"id": 8, "image_id": 7, "category_id": 1, "bbox": [5, 5, 0, 3]},
    {"id": 9, "image_id": 9, "category_id": 1, "bbox": [1, 1, 2, 2]})");
  std::filesystem::remove(dir_ / "img/c.jpg");
  ReadReport report;
  EXPECT_NE(error_message([&] {
              (void)read_coco(json, path("img"), {}, report);
            }).find("ann.json: images[2]: missing image file: no file " + path("img") + "/c.jpg"),
            std::string::npos);
  CocoDataset c = read_coco(json, path("img"), {.policy = ReadPolicy::repair}, report);
  ASSERT_EQ(c.dataset.images.size(), 2u);
  ASSERT_EQ(c.dataset.images[1].objects.size(), 2u);
  EXPECT_EQ(c.dataset.images[1].objects[1].box, (std::array<float, 4>{90, 40, 100, 50}));
  EXPECT_EQ(report.count(ProblemKind::missing_image), 1);  // c.jpg; its annotation 9 goes along
  EXPECT_EQ(report.count(ProblemKind::unknown_class), 1);
  EXPECT_EQ(report.count(ProblemKind::malformed_record), 2);
  EXPECT_EQ(report.count(ProblemKind::box_outside_image), 1);
  EXPECT_EQ(report.count(ProblemKind::empty_box), 1);
  EXPECT_EQ(report.total(), 6);
  EXPECT_NE(report.summary().find("annotations[4] (id 5): image_id 1000 is not an image"),
            std::string::npos)
      << report.summary();
}

// Sections in any order (categories last, as in the real files), RLE and polygon masks skipped,
// and entries of the wrong shape: each is one malformed record.
TEST_F(Coco, OddShapesAreMalformedRecords) {
  write_text(dir_ / "odd.json", R"({"images": [5, {"id": 1, "file_name": "a.jpg", "width": 10.0,
      "height": 10}, {"id": 2, "file_name": "b.jpg", "width": 10, "height": 10, "extra": {"id": 9}}],
    "annotations": [[1, 2],
      {"image_id": 2, "category_id": 4, "bbox": [1, 1, 2, 2, 3]},
      {"image_id": 2, "category_id": 4, "bbox": [1, [1], 2, 2]},
      {"image_id": 2, "category_id": 4, "bbox": {"x": 1}},
      {"image_id": 2.0, "category_id": 4, "bbox": [1, 1, 2, 2]},
      {"image_id": 2, "category_id": 4, "iscrowd": 1, "bbox": [1, 1, 2, 2],
       "segmentation": {"counts": [1, 2], "size": [10, 10], "bbox": 7}},
      {"image_id": 2, "category_id": 4, "bbox": [0, 0, 3, 3], "segmentation": [[1, 2, 3]]}],
    "categories": [{"id": 4, "name": "cat", "keypoints": ["a"]}]})");
  ReadReport report;
  CocoDataset c = read_coco(path("odd.json"), "", {.policy = ReadPolicy::repair}, report);
  ASSERT_EQ(c.dataset.images.size(), 1u);
  EXPECT_EQ(c.dataset.images[0].id, "2");
  ASSERT_EQ(c.dataset.images[0].objects.size(), 2u);
  EXPECT_TRUE(c.dataset.images[0].objects[0].group_of);
  EXPECT_EQ(c.dataset.images[0].objects[0].box, (std::array<float, 4>{1, 1, 3, 3}));
  EXPECT_EQ(c.dataset.images[0].objects[1].box, (std::array<float, 4>{0, 0, 3, 3}));
  EXPECT_EQ(c.dataset.class_names, (std::vector<std::string>{"cat"}));
  // images[0] (a number), images[1] (float width), annotations[0..4].
  EXPECT_EQ(report.count(ProblemKind::malformed_record), 7) << report.summary();
}

TEST_F(Coco, BrokenFilesAreErrorsUnderEitherPolicy) {
  write_text(dir_ / "bad.json", R"({"images": [)");
  write_text(dir_ / "nocat.json", R"({"images": []})");
  write_text(dir_ / "objimages.json", R"({"images": {}, "categories": []})");
  write_text(dir_ / "array.json", R"([{"images": [], "categories": []}])");
  ReadReport report;
  ReadOptions repair{.policy = ReadPolicy::repair};
  EXPECT_NE(error_message([&] {
              (void)read_coco(path("bad.json"), "", repair, report);
            }).find("bad.json is not valid JSON"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              (void)read_coco(path("nocat.json"), "", repair, report);
            }).find("has no \"categories\" array"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              (void)read_coco(path("objimages.json"), "", repair, report);
            }).find("\"images\" is not an array"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              (void)read_coco(path("array.json"), "", repair, report);
            }).find("has no \"categories\" array"),
            std::string::npos);
}

}  // namespace
}  // namespace osprey::data
