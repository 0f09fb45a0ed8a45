// One training step of a CIFAR ResNet: every trainable parameter gets a finite, non-zero
// gradient, frozen ones none.
#include <gtest/gtest.h>

#include <cmath>

#include "models/model_factory.h"
#include "ops/ops.h"

namespace osprey::models {
namespace {

TEST(TrainingStep, Resnet20BackwardReachesEveryTrainableParameter) {
  proto::ModelSpec spec;
  spec.mutable_backbone()->set_preset("resnet20");
  spec.mutable_backbone()->set_in_channels(1);
  spec.mutable_classification_head()->set_num_classes(10);
  random::Generator generator(2);
  auto model = build_model(spec, generator);
  model->train();
  const Tensor images = ops::normal({2, 1, 28, 28}, 0.0, 1.0, generator);
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{3, 7}, {2});
  const Tensor loss = ops::cross_entropy((*model)(images), labels);
  loss.backward();
  int trainable = 0;
  for (const auto& [name, parameter] : model->named_parameters()) {
    if (!parameter.requires_grad()) continue;
    ++trainable;
    ASSERT_TRUE(parameter.grad().defined()) << name;
    EXPECT_EQ(parameter.grad().shape(), parameter.shape()) << name;
    const float magnitude = ops::sum(ops::abs(parameter.grad())).item<float>();
    EXPECT_TRUE(std::isfinite(magnitude) && magnitude > 0.0f) << name << ": " << magnitude;
  }
  EXPECT_EQ(trainable, 65);  // 19 convs, 19 norms × 2, stage shortcuts 2 × (conv + bn × 2), fc × 2
}

}  // namespace
}  // namespace osprey::models
