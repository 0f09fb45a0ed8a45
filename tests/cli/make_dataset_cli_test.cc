// `osprey make-dataset fashion-scenes` in-process on the real Fashion-MNIST files (skipped when the
// Debian package dataset-fashion-mnist is not installed): options reach the dataset, errors name
// the option.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/fashion_mnist/fashion_mnist.h"
#include "data/image/codec.h"
#include "experiments/cli/make_dataset_command.h"
#include "framework/core/error.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;

class MakeDatasetCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(data::kFashionMnistDefaultDir) / "t10k-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)";
    }
    dir_ = fs::temp_directory_path() /
           (std::string("osprey_make_dataset_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

int count_lines(const fs::path& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST_F(MakeDatasetCli, WritesTheRequestedDataset) {
  cli::MakeFashionScenesOptions options;
  options.out_dir = (dir_ / "voc").string();
  options.preset = "voc";
  options.count = 6;
  options.size = "96x64";
  options.objects = "2-3";
  options.scale = "16-48";
  options.threads = 2;
  options.train_fraction = 0.5;
  options.void_radius = 0;
  std::ostringstream out;
  data::fashion_scenes::WriteStats stats = cli::run_make_fashion_scenes(options, out);
  EXPECT_EQ(stats.images, 6);
  EXPECT_GE(stats.objects, 6);
  EXPECT_NE(out.str().find("6 images"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Fashion-MNIST test split"), std::string::npos) << out.str();
  data::Image image = data::read_image((dir_ / "voc/JPEGImages/000005.jpg").string());
  EXPECT_EQ(image.width, 96);
  EXPECT_EQ(image.height, 64);
  EXPECT_TRUE(fs::exists(dir_ / "voc/SegmentationClass/000005.png"));
  EXPECT_EQ(count_lines(dir_ / "voc/ImageSets/Main/trainval.txt"), 6);
  EXPECT_EQ(count_lines(dir_ / "voc/ImageSets/Main/train.txt"), 3);
  data::DecodeOptions indices;
  indices.palette_indices = true;
  data::Image mask =
      data::read_image((dir_ / "voc/SegmentationClass/000000.png").string(), indices);
  for (uint8_t v : mask.pixels) EXPECT_NE(v, 255);  // --void-radius 0: no void band
}

TEST_F(MakeDatasetCli, BadOptionsAreErrors) {
  cli::MakeFashionScenesOptions options;
  options.out_dir = (dir_ / "bad").string();
  options.count = 1;
  std::ostringstream out;
  options.size = "96by64";
  EXPECT_THROW(cli::run_make_fashion_scenes(options, out), Error);
  options.size.clear();
  options.preset = "imagenet";
  EXPECT_THROW(cli::run_make_fashion_scenes(options, out), Error);
  options.preset = "scenes";
  options.background = "stripes";
  try {
    cli::run_make_fashion_scenes(options, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "make-dataset: unknown --background 'stripes' (known: plain, textured, cluttered)");
  }
}

}  // namespace
}  // namespace osprey
