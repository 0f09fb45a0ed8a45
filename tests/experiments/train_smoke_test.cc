// The real thing, briefly: experiments/specs/fmnist_smoke.prototxt (narrow ResNet-20 from the
// model factory, the installed Fashion-MNIST, augmentation, SGD with warm-up and cosine) and
// fmnist_smoke_dcn.prototxt (the same with DCNv2 in the last stage) train 30 iterations each and
// the loss falls. Skips when the dataset is not installed
// (Debian's dataset-fashion-mnist; CI's setup installs it).
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <sstream>

#include "data/fashion_mnist/fashion_mnist.h"
#include "experiments/train/run_files.h"
#include "experiments/train/trainer.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;

class TrainSmoke : public ::testing::TestWithParam<const char*> {};

TEST_P(TrainSmoke, FashionMnistLossFalls) {
  if (!fs::exists(data::kFashionMnistDefaultDir)) {
    GTEST_SKIP() << data::kFashionMnistDefaultDir << " is absent (install dataset-fashion-mnist)";
  }
  fs::path specs = fs::path(OSPREY_SOURCE_DIR) / "experiments" / "specs";
  proto::Experiment spec = experiments::load_spec_file((specs / GetParam()).string());
  fs::path run = fs::temp_directory_path() / ("osprey_train_" + spec.name());
  fs::remove_all(run);
  spec.set_output_dir(run.string());
  std::vector<double> losses;
  std::ostringstream log;
  experiments::TrainerOptions options;
  options.out = &log;
  options.on_iteration = [&](int64_t, double loss) { losses.push_back(loss); };
  experiments::TrainResult result = experiments::Trainer(spec, options).train();
  ASSERT_EQ(losses.size(), 30u) << log.str();
  double first = std::accumulate(losses.begin(), losses.begin() + 5, 0.0) / 5;
  double last = std::accumulate(losses.end() - 5, losses.end(), 0.0) / 5;
  EXPECT_LT(last, 0.8 * first) << log.str();
  ASSERT_TRUE(result.eval.has_value());
  EXPECT_EQ(result.eval->examples, 500);
  EXPECT_GT(result.eval->accuracy.at(1), 0.3) << result.eval->summary();
  fs::remove_all(run);
}

INSTANTIATE_TEST_SUITE_P(
    Specs, TrainSmoke, ::testing::Values("fmnist_smoke.prototxt", "fmnist_smoke_dcn.prototxt"),
    [](const auto& info) {
      return std::string(info.param).substr(0, std::string(info.param).find('.'));
    });

}  // namespace
}  // namespace osprey
