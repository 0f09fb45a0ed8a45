// Detection datasets in the spec: a small VOC fixture read through train_data.detection under the
// strict annotation policy (the error names file and object) and under repair (problems counted
// and logged), the policy mapping, and field-path errors for a bad format or a missing path.
#include "experiments/spec/detection_data.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "experiments/spec/spec.h"
#include "experiments/spec/validate.h"
#include "experiments/train/run_setup.h"
#include "temp_dir.h"
#include "tests/data/formats/formats_test_support.h"

namespace osprey::experiments {
namespace {

using data::ProblemKind;
using data::testing::object;
using data::testing::voc_image;

constexpr int kCat = 7, kDog = 11;

// The parts of a spec every test shares; `detection` is the body of train_data.detection.
std::string spec_text(const std::string& detection) {
  return R"(name: "det"
model { backbone { preset: "resnet20" } classification_head { num_classes: 10 } }
solver { base_lr: 0.1 max_iter: 10 }
train_data { batch_size: 2 detection { )" +
         detection + " } }\n";
}

class DetectionDataFromSpec : public testing::TempDirTest {
 protected:
  // a: one box past the right/bottom edge; b: an inverted box; c: its JPEG is missing.
  void write_fixture() {
    data::testing::write_voc_root(
        dir_ / "VOC", "trainval",
        {voc_image("a", 100, 80, {object(kDog, 0, 0, 100, 80), object(kDog, 49, 9, 120, 90)}),
         voc_image("b", 60, 40, {object(kCat, 10, 5, 50, 30), object(kCat, 30, 10, 20, 20)}),
         voc_image("c", 50, 50, {object(kCat, 1, 1, 20, 20)})});
    std::filesystem::remove(dir_ / "VOC" / "JPEGImages" / "c.jpg");
  }
  proto::Experiment load(const std::string& detection) {
    return load_spec(write("spec.prototxt", spec_text(detection)));
  }
};

TEST_F(DetectionDataFromSpec, StrictNamesTheFileAndObject) {
  write_fixture();
  proto::Experiment spec = load("path: \"" + path("VOC") + "\" annotation_policy: STRICT");
  std::ostringstream log;
  std::string message = OSPREY_ERROR_MESSAGE(
      (void)read_detection_data(spec.train_data().detection(), "train_data.detection", &log));
  EXPECT_NE(message.find(path("VOC") + "/Annotations/a.xml:"), std::string::npos) << message;
  EXPECT_NE(message.find("object 2 ('dog'): box outside image"), std::string::npos) << message;
}

TEST_F(DetectionDataFromSpec, RepairClipsDropsCountsAndLogs) {
  write_fixture();
  proto::Experiment spec = load("format: \"voc\" path: \"" + path("VOC") +
                                "\" split: \"trainval\" annotation_policy: REPAIR "
                                "corrupt_images: SKIP");
  std::ostringstream log;
  DetectionData d =
      read_detection_data(spec.train_data().detection(), "train_data.detection", &log);
  EXPECT_EQ(d.format, "voc");
  EXPECT_EQ(d.corrupt_images, data::CorruptSamplePolicy::skip);
  EXPECT_EQ(d.dataset.class_names.size(), 20u);
  ASSERT_EQ(d.dataset.images.size(), 2u);  // c dropped: its image is missing
  ASSERT_EQ(d.dataset.images[0].objects.size(), 2u);
  EXPECT_EQ(d.dataset.images[0].objects[1].box, (std::array<float, 4>{49, 9, 100, 80}));  // clipped
  EXPECT_EQ(d.dataset.images[1].objects.size(), 1u);  // the inverted box dropped
  EXPECT_EQ(d.report.count(ProblemKind::box_outside_image), 1);
  EXPECT_EQ(d.report.count(ProblemKind::inverted_box), 1);
  EXPECT_EQ(d.report.count(ProblemKind::missing_image), 1);
  EXPECT_EQ(d.report.total(), 3);
  const std::string text = log.str();
  EXPECT_NE(text.find("train_data.detection: VOC/trainval (voc): 2 images, 20 classes; annotation "
                      "problems repaired: 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("missing image file: 1"), std::string::npos) << text;
}

TEST_F(DetectionDataFromSpec, SeveralRootsAndDetectedFormat) {
  write_fixture();
  data::testing::write_voc_root(dir_ / "VOC2", "trainval",
                                {voc_image("d", 40, 30, {object(kDog, 1, 1, 10, 10)})});
  proto::Experiment spec = load("path: \"" + path("VOC") + "\" path: \"" + path("VOC2") +
                                "\" annotation_policy: REPAIR check_images: false");
  EXPECT_EQ(detection_source(spec.train_data().detection()).path, path("VOC") + "," + path("VOC2"));
  EXPECT_FALSE(detection_read_options(spec.train_data().detection()).check_image_files);
  DetectionData d =
      read_detection_data(spec.train_data().detection(), "train_data.detection", nullptr);
  EXPECT_EQ(d.format, "voc");
  EXPECT_EQ(d.dataset.images.size(), 4u);  // c kept: images are not checked
  EXPECT_EQ(d.report.count(ProblemKind::missing_image), 0);
  EXPECT_EQ(d.corrupt_images, data::CorruptSamplePolicy::strict);  // the default
}

TEST_F(DetectionDataFromSpec, BadFieldsAreReportedByFieldPath) {
  std::string message = OSPREY_ERROR_MESSAGE(load("format: \"vocc\""));
  EXPECT_NE(message.find("train_data.detection.path: must be set"), std::string::npos) << message;
  EXPECT_NE(message.find("train_data.detection.format: unknown format 'vocc' (known: voc, coco"),
            std::string::npos)
      << message;

  proto::Experiment both = parse_spec_text(spec_text("path: \"x\""), "<string>");
  both.mutable_train_data()->set_dataset("fashion_mnist");
  both.mutable_test_data()->mutable_detection()->add_path("");
  std::vector<std::string> problems = spec_problems(both);
  EXPECT_NE(std::find(problems.begin(), problems.end(),
                      "train_data.dataset: set either dataset or detection (got both)"),
            problems.end());
  EXPECT_NE(
      std::find(problems.begin(), problems.end(), "test_data.detection.path[0]: must not be empty"),
      problems.end());
}

TEST(DetectionDataInTrain, ClassificationTrainingSaysDetectionIsNotBuiltYet) {
  proto::DataSpec data;
  data.mutable_detection()->add_path("VOC2007");
  try {
    make_dataset(data, "train_data");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train_data.detection: osprey train trains classifiers"),
              std::string::npos)
        << e.what();
  }
}
}  // namespace
}  // namespace osprey::experiments
