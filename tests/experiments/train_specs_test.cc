// Every spec in experiments/specs loads (bases merged), validates and builds its model, and the
// Fashion-MNIST ones say what the README promises: one input channel, ten classes, the
// normalisation constants, DCNv2 in the last stage of the DCN variant.
#include <gtest/gtest.h>

#include <filesystem>

#include "experiments/spec/validate.h"
#include "experiments/train/run_files.h"
#include "models/model_factory.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;

fs::path specs_dir() {
  return fs::path(OSPREY_SOURCE_DIR) / "experiments" / "specs";
}

proto::Experiment load(const std::string& name) {
  return experiments::load_spec_file((specs_dir() / name).string());
}

TEST(TrainSpecs, EverySpecLoadsValidatesAndBuildsItsModel) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(specs_dir())) {
    if (entry.path().extension() != ".prototxt") continue;
    SCOPED_TRACE(entry.path().string());
    proto::Experiment spec = experiments::load_spec_file(entry.path().string());
    EXPECT_TRUE(experiments::spec_problems(spec).empty());
    EXPECT_FALSE(spec.has_base());
    random::Generator generator(1);
    auto model = models::build_model(spec.model(), generator);
    EXPECT_GT(model->parameter_count(), 0);
    ++count;
  }
  EXPECT_GE(count, 4);
}

TEST(TrainSpecs, FashionMnistSpecsSayWhatTheyPromise) {
  proto::Experiment r20 = load("fmnist_resnet20.prototxt");
  EXPECT_EQ(r20.model().backbone().preset(), "resnet20");
  EXPECT_EQ(r20.model().backbone().in_channels(), 1);
  EXPECT_EQ(r20.model().classification_head().num_classes(), 10);
  EXPECT_EQ(r20.train_data().batch_size(), 128);
  EXPECT_FLOAT_EQ(r20.train_data().augment().mean(0), 0.2860f);
  EXPECT_FLOAT_EQ(r20.train_data().augment().std(0), 0.3530f);
  EXPECT_EQ(r20.train_data().augment().pad(), 4);
  EXPECT_TRUE(r20.solver().nesterov());
  EXPECT_DOUBLE_EQ(r20.solver().weight_decay(), 5e-4);
  EXPECT_EQ(r20.solver().lr_schedule().policy(), proto::COSINE);
  EXPECT_GT(r20.solver().lr_schedule().warmup_iters(), 0);

  proto::Experiment dcn = load("fmnist_resnet20_dcn.prototxt");
  ASSERT_EQ(dcn.model().backbone().deformable_size(), 1);
  EXPECT_EQ(dcn.model().backbone().deformable(0).stage(), "stage3");
  EXPECT_EQ(dcn.model().backbone().deformable(0).version(), proto::DCN_V2);
  EXPECT_EQ(dcn.solver().epochs(), r20.solver().epochs());  // everything else from the base

  proto::Experiment r18 = load("fmnist_resnet18.prototxt");
  EXPECT_EQ(r18.model().backbone().stem(), proto::SMALL_IMAGE);
  EXPECT_EQ(r18.device(), proto::CUDA);

  proto::Experiment smoke = load("fmnist_smoke.prototxt");
  EXPECT_EQ(smoke.solver().max_iter(), 30);
  EXPECT_EQ(smoke.model().backbone().widths_size(), 3);
}

}  // namespace
}  // namespace osprey
