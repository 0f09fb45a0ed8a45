// `osprey dataset stats` on small VOC, COCO and OpenImages trees: detected formats, counts per
// class, the SNIPER box-size histogram, problems under repair and strict, undetectable paths, and
// the subcommand's registration and options through CLI11.
#include <gtest/gtest.h>

#include <sstream>

#include "experiments/cli/commands.h"
#include "experiments/cli/dataset_command.h"
#include "tests/data/data_test_support.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::data {
namespace {

using testing::error_message;
using testing::object;
using testing::voc_image;
using testing::write_text;

class DatasetStatsCli : public testing::TempDirTest {
 protected:
  // Box sides sqrt(w*h): 10 (dog), 50 (dog), 100 (person, difficult), 200 (person, clipped from
  // 300x200 to the 200x200 image).
  void write_voc() {
    testing::write_voc_root(dir_ / "VOC2007", "trainval",
                            {voc_image("000001", 200, 200,
                                       {object(11, 0, 0, 10, 10), object(11, 0, 0, 50, 50),
                                        object(14, 0, 0, 100, 100, true)}),
                             voc_image("000002", 200, 200, {object(14, 0, 0, 300, 200)}),
                             voc_image("000003", 20, 20, {})});
  }
  std::string run(cli::DatasetStatsOptions options) {
    std::ostringstream out;
    cli::run_dataset_stats(options, out);
    return out.str();
  }
};

TEST_F(DatasetStatsCli, VocCountsClassesSizesAndProblems) {
  write_voc();
  cli::DatasetStatsOptions options;
  options.path = path("VOC2007");
  std::ostringstream out;
  DatasetStats stats = cli::run_dataset_stats(options, out);
  std::string text = out.str();
  EXPECT_EQ(stats.images(), 3);
  EXPECT_EQ(stats.objects(), 4);
  EXPECT_EQ(stats.images_without_objects(), 1);
  EXPECT_EQ(stats.size_histogram(), (std::vector<int64_t>{1, 1, 1, 0, 1}));
  EXPECT_EQ(stats.objects_per_class()[11], 2);
  EXPECT_NE(text.find("dataset: VOC2007/trainval (format voc)\nimages: 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("    11 dog                              2        0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("    14 person                           2        1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  32-80               1  25.00%\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  >= 150              1  25.00%\n"), std::string::npos) << text;
  EXPECT_NE(text.find("problems: box outside image: 1 (clipped"), std::string::npos) << text;

  options.policy = "strict";
  EXPECT_NE(error_message([&] { run(options); }).find("000002.xml"), std::string::npos);
  options.policy = "repair";
  options.edges = {100};
  EXPECT_EQ(cli::run_dataset_stats(options, out).size_histogram(), (std::vector<int64_t>{2, 2}));
  options.edges = {100, 50};
  EXPECT_NE(error_message([&] { run(options); }).find("positive and increasing"),
            std::string::npos);
}

TEST_F(DatasetStatsCli, CocoAndOpenImagesFoldersAreDetected) {
  write_text(dir_ / "coco/annotations/instances_val2017.json",
             R"({"categories": [{"id": 3, "name": "car"}],
                 "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
                 "annotations": [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 40, 40]}]})");
  write_text(dir_ / "coco/val2017/a.jpg", "");
  cli::DatasetStatsOptions options;
  options.path = path("coco");
  std::string text = run(options);
  EXPECT_NE(text.find("dataset: instances_val2017 (format coco)"), std::string::npos) << text;
  EXPECT_NE(text.find("  32-80               1 100.00%"), std::string::npos) << text;

  write_text(dir_ / "oi/class-descriptions-boxable.csv", "/m/a,Apple\n/m/b,Bee\n");
  write_text(dir_ / "oi/validation-annotations-bbox.csv",
             "ImageID,LabelName,XMin,XMax,YMin,YMax\ni1,/m/b,0,0.5,0,0.5\ni1,/m/b,0,1,0,1\n"
             "i2,/m/q,0,1,0,1\n");
  options.path = path("oi");
  text = run(options);
  EXPECT_NE(text.find("format openimages"), std::string::npos) << text;
  EXPECT_NE(text.find("images: 2\nobjects: 2"), std::string::npos) << text;
  EXPECT_NE(text.find("     1 Bee                              2"), std::string::npos) << text;
  EXPECT_NE(text.find("images: 2\nobjects: 2 (1.00 per image), images without objects: 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unknown class: 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("box size sqrt"), std::string::npos) << text;
  EXPECT_NE(text.find("\nbox size unknown (normalized boxes, image size not read): 2\n"),
            std::string::npos)
      << text;

  // With the images at hand their sizes come from the headers: i1 is a 64x64 PNG, so its boxes
  // have sides 32 and 64; i2 is not an image.
  std::string png = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n', 0, 0, 0, 13,
                     'I',    'H', 'D', 'R', 0,    0,    0,      64,   0, 0, 0, 64};
  write_text(dir_ / "oi/img/i1.jpg", png);
  write_text(dir_ / "oi/img/i2.jpg", "");
  options.image_dir = path("oi/img");
  std::ostringstream out;
  DatasetStats stats = cli::run_dataset_stats(options, out);
  EXPECT_EQ(stats.size_histogram(), (std::vector<int64_t>{0, 2, 0, 0, 0})) << out.str();
  EXPECT_EQ(stats.boxes_of_unknown_size(), 0);
  EXPECT_NE(out.str().find("image sizes read from file headers: 1 (unreadable: 1)"),
            std::string::npos)
      << out.str();
  options.read_image_sizes = false;
  EXPECT_EQ(cli::run_dataset_stats(options, out).boxes_of_unknown_size(), 2);
}

TEST_F(DatasetStatsCli, UndetectableFolderListsTheLayouts) {
  write_text(dir_ / "misc/readme.md", "");
  cli::DatasetStatsOptions options;
  options.path = path("misc");
  EXPECT_NE(error_message([&] { run(options); })
                .find("or name one with --format (voc, coco, openimages, imagenet-loc, flowers102, "
                      "folders, list)"),
            std::string::npos);
}

TEST_F(DatasetStatsCli, RegisteredSubcommandParsesItsOptions) {
  write_voc();
  CLI::App app;
  cli::add_all_commands(app);
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  app.parse(std::vector<std::string>{"--no-image-check", "--edges=40,90", "--format=voc",
                                     path("VOC2007"), "stats", "dataset"});
  std::cout.rdbuf(old);
  EXPECT_NE(captured.str().find("  40-90               1"), std::string::npos) << captured.str();
  EXPECT_THROW(app.parse(std::vector<std::string>{"--format=xml", "x", "stats", "dataset"}),
               CLI::ValidationError);
}

}  // namespace
}  // namespace osprey::data
