// ResNet backbones: parameter counts against torchvision's, output shapes of each stem,
// parameter names, frozen stages, dilation, zero_init_residual and the pre-activation variant.
#include "models/backbones/resnet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "framework/nn/nn.h"
#include "models/backbones/resnet_presets.h"
#include "models/classification/classifier.h"
#include "ops/ops.h"

namespace osprey::models {
namespace {

std::shared_ptr<ResNet> make_resnet(const ResNetOptions& options, uint64_t seed = 1) {
  random::Generator generator(seed);
  return std::make_shared<ResNet>(options, generator);
}

int64_t classifier_parameters(const std::string& preset, int64_t classes) {
  random::Generator generator(1);
  auto backbone = std::make_shared<ResNet>(resnet_preset(preset), generator);
  Classifier model(backbone, {backbone->out_channels(), classes, 0.0}, generator);
  return model.parameter_count();
}

bool has_name(const nn::NamedTensors& tensors, const std::string& name) {
  return std::any_of(tensors.begin(), tensors.end(),
                     [&](const auto& entry) { return entry.first == name; });
}

Tensor image(const Shape& shape, uint64_t seed = 7) {
  random::Generator generator(seed);
  return ops::normal(shape, 0.0, 1.0, generator);
}

TEST(ResNet, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(classifier_parameters("resnet18", 1000), 11689512);
  EXPECT_EQ(classifier_parameters("resnet34", 1000), 21797672);
  EXPECT_EQ(classifier_parameters("resnet50", 1000), 25557032);
}

TEST(ResNet, CifarParameterCountsWithProjectionShortcuts) {
  // 3 input channels, 10 classes; option-B shortcuts add 2,752 to the paper's option-A nets.
  EXPECT_EQ(classifier_parameters("resnet20", 10), 272474);
  EXPECT_EQ(classifier_parameters("resnet32", 10), 466906);
  EXPECT_EQ(classifier_parameters("resnet56", 10), 855770);
}

TEST(ResNet, ImageNetStemOutputsStride32) {
  ResNetOptions options = resnet_preset("resnet18");
  options.widths = {4, 8, 8, 16};  // narrow: shapes only
  options.stem_width = 4;
  auto net = make_resnet(options);
  net->eval();
  const auto features = net->forward_features(image({1, 3, 64, 64}));
  ASSERT_EQ(features.size(), 5u);
  EXPECT_EQ(features[0].first, "stem");
  EXPECT_EQ(features[0].second.shape(), (Shape{1, 4, 16, 16}));
  EXPECT_EQ(features[1].first, "res2");
  EXPECT_EQ(features[4].first, "res5");
  EXPECT_EQ(features[4].second.shape(), (Shape{1, 16, 2, 2}));
  EXPECT_EQ(net->feature_stride("res5"), 32);
  EXPECT_EQ(net->out_channels("res4"), 8);
}

TEST(ResNet, ImageNetStem224GivesSevenBySeven) {
  ResNetOptions options = resnet_preset("resnet18");
  options.widths = {2, 2, 2, 2};
  options.stem_width = 2;
  auto net = make_resnet(options);
  net->eval();
  EXPECT_EQ(net->forward(image({1, 3, 224, 224})).shape(), (Shape{1, 2, 7, 7}));
}

TEST(ResNet, CifarStemAndThreeStagesGiveSevenBySevenAt28) {
  ResNetOptions options = resnet_preset("resnet20");
  options.in_channels = 1;
  auto net = make_resnet(options);
  EXPECT_EQ(net->stage_names(), (std::vector<std::string>{"stage1", "stage2", "stage3"}));
  EXPECT_EQ(net->forward(image({2, 1, 28, 28})).shape(), (Shape{2, 64, 7, 7}));
  EXPECT_EQ(net->feature_stride("stage3"), 4);
}

TEST(ResNet, SmallImageStemKeepsFourImageNetStages) {
  ResNetOptions options = resnet_preset("resnet18");
  options.stem = StemType::small_image;
  options.widths = {4, 4, 8, 8};
  options.stem_width = 4;
  auto net = make_resnet(options);
  EXPECT_EQ(net->stage_names().back(), "res5");
  EXPECT_EQ(net->forward(image({1, 3, 32, 32})).shape(), (Shape{1, 8, 4, 4}));
  EXPECT_EQ(net->feature_stride("res5"), 8);
}

TEST(ResNet, LastStageDilationGivesOutputStride16) {
  ResNetOptions options = resnet_preset("resnet50");
  options.depths = {1, 1, 1, 2};
  options.widths = {2, 2, 4, 4};
  options.stem_width = 4;
  options.last_stage_dilation = 2;
  auto net = make_resnet(options);
  EXPECT_EQ(net->feature_stride("res5"), 16);
  EXPECT_EQ(net->forward(image({1, 3, 64, 64})).shape(), (Shape{1, 16, 4, 4}));
  auto& conv = dynamic_cast<nn::Conv2d&>(net->submodule("res5.b1.conv2"));
  EXPECT_EQ(conv.options().dilation, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv.options().padding, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(dynamic_cast<nn::Conv2d&>(net->submodule("res5.b0.conv2")).options().stride,
            (std::vector<int64_t>{1, 1}));
}

TEST(ResNet, ParameterNamesAreStable) {
  ResNetOptions options = resnet_preset("resnet50");
  options.widths = {2, 2, 4, 4};  // names do not depend on widths; keeps the test fast
  auto net = make_resnet(options);
  const auto parameters = net->named_parameters();
  const auto state = net->state_dict();
  EXPECT_EQ(parameters.front().first, "stem.conv.weight");
  for (const char* name : {"stem.bn.weight", "res2.b0.conv1.weight", "res2.b0.shortcut.conv.weight",
                           "res2.b0.shortcut.bn.bias", "res4.b3.conv2.weight", "res4.b5.bn3.weight",
                           "res5.b2.conv3.weight"})
    EXPECT_TRUE(has_name(parameters, name)) << name;
  EXPECT_TRUE(has_name(state, "res4.b3.bn2.running_var"));
  EXPECT_FALSE(has_name(parameters, "res4.b1.shortcut.conv.weight"));  // identity shortcut
  EXPECT_EQ(net->named_parameters().back().first, "res5.b2.bn3.bias");
  // Bottleneck stride on the 3×3 conv ("v1.5").
  EXPECT_EQ(dynamic_cast<nn::Conv2d&>(net->submodule("res3.b0.conv2")).options().stride,
            (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(dynamic_cast<nn::Conv2d&>(net->submodule("res3.b0.conv1")).options().stride,
            (std::vector<int64_t>{1, 1}));
}

TEST(ResNet, KaimingFanOutInitialisationIsSeeded) {
  auto a = make_resnet(resnet_preset("resnet20"), 3);
  auto b = make_resnet(resnet_preset("resnet20"), 3);
  auto c = make_resnet(resnet_preset("resnet20"), 4);
  const Tensor wa = a->submodule("stage3.b2.conv2").named_parameters().front().second;
  EXPECT_EQ(wa.to_vector<float>(),
            b->submodule("stage3.b2.conv2").named_parameters().front().second.to_vector<float>());
  EXPECT_NE(wa.to_vector<float>(),
            c->submodule("stage3.b2.conv2").named_parameters().front().second.to_vector<float>());
  // std = sqrt(2 / fan_out), fan_out = 64 · 9.
  const double variance = ops::var(wa.flatten()).item<float>();
  EXPECT_NEAR(std::sqrt(variance), std::sqrt(2.0 / (64 * 9)), 0.003);
  const Tensor bn_weight = a->submodule("stage1.b0.bn1").named_parameters().front().second;
  EXPECT_EQ(ops::sum(bn_weight).item<float>(), 16.0f);
}

TEST(ResNet, FrozenStagesStayFixedAndInEvalMode) {
  ResNetOptions options = resnet_preset("resnet20");
  options.frozen_stages = 2;  // the stem and stage1
  auto net = make_resnet(options);
  for (const auto& [name, tensor] : net->named_parameters()) {
    const bool frozen = name.rfind("stem.", 0) == 0 || name.rfind("stage1.", 0) == 0;
    EXPECT_EQ(tensor.requires_grad(), !frozen) << name;
  }
  net->train();
  EXPECT_TRUE(net->is_training());
  EXPECT_FALSE(net->submodule("stem.bn").is_training());
  EXPECT_FALSE(net->submodule("stage1.b2.bn2").is_training());
  EXPECT_TRUE(net->submodule("stage2.b0.bn1").is_training());
  // Training through a parent (the classifier) keeps them frozen too.
  random::Generator generator(1);
  Classifier model(net, {64, 10, 0.0}, generator);
  model.eval();
  model.train();
  EXPECT_FALSE(model.submodule("backbone.stage1.b0.bn1").is_training());
  EXPECT_TRUE(model.submodule("backbone.stage3.b0.bn1").is_training());
  // Their running statistics do not move in a training forward.
  const Tensor before = net->submodule("stem.bn").named_buffers().front().second.clone();
  net->forward(image({2, 3, 8, 8}));
  EXPECT_EQ(net->submodule("stem.bn").named_buffers().front().second.to_vector<float>(),
            before.to_vector<float>());
}

TEST(ResNet, FrozenBatchNormHasNoNormParameters) {
  ResNetOptions options = resnet_preset("resnet20");
  options.norm.type = NormType::frozen_batch_norm;
  auto net = make_resnet(options);
  for (const auto& [name, tensor] : net->named_parameters())
    EXPECT_EQ(tensor.dim(), 4) << name;  // only conv weights remain trainable
  EXPECT_TRUE(has_name(net->state_dict(), "stem.bn.running_mean"));
}

TEST(ResNet, ZeroInitResidualMakesBlocksIdentityOnTheirInput) {
  ResNetOptions options = resnet_preset("resnet20");
  options.zero_init_residual = true;
  auto net = make_resnet(options);
  EXPECT_EQ(ops::sum(ops::abs(net->submodule("stage2.b1.bn2").named_parameters().front().second))
                .item<float>(),
            0.0f);
  net->eval();
  // An identity-shortcut block then computes relu(x) = x for its (non-negative) input.
  const Tensor x = ops::relu(image({1, 16, 6, 6}));
  const Tensor y = net->submodule("stage1.b1").forward(x);
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());
}

TEST(ResNet, PreActivationFollowsMxnetResNetV2) {
  ResNetOptions options = resnet_preset("resnet50");
  options.depths = {1, 2, 1, 1};
  options.widths = {2, 4, 4, 8};
  options.stem_width = 4;
  options.pre_activation = true;
  auto net = make_resnet(options);
  const auto parameters = net->named_parameters();
  EXPECT_EQ(parameters.front().first, "stem.input_bn.weight");
  EXPECT_FALSE(parameters.front().second.requires_grad());  // fix_gamma
  EXPECT_TRUE(has_name(parameters, "final_bn.weight"));
  EXPECT_TRUE(has_name(parameters, "res3.b0.shortcut.conv.weight"));
  EXPECT_FALSE(has_name(parameters, "res3.b0.shortcut.bn.weight"));  // no norm on the projection
  // bn1 normalises the block input (pre-activation), not conv1's output.
  EXPECT_EQ(net->submodule("res3.b0.bn1").named_parameters().front().second.shape(), (Shape{8}));
  net->eval();
  const Tensor x = image({1, 3, 32, 32});
  const auto features = net->forward_features(x);
  const Tensor out = net->forward(x);
  // forward() is relu(final_bn(res5)): non-negative; the raw res5 sum is not.
  EXPECT_GE(ops::min(out.flatten(), 0).first.item<float>(), 0.0f);
  EXPECT_LT(ops::min(features.back().second.flatten(), 0).first.item<float>(), 0.0f);
  EXPECT_EQ(out.shape(), features.back().second.shape());
}

TEST(ResNet, InvalidOptionsAreErrors) {
  ResNetOptions options = resnet_preset("resnet20");
  options.deformable.push_back({.stage = "res5"});
  EXPECT_THROW(make_resnet(options), Error);
  options = resnet_preset("resnet20");
  options.widths = {16, 32};
  EXPECT_THROW(make_resnet(options), Error);
  EXPECT_THROW(resnet_preset("resnet19"), Error);
}

}  // namespace
}  // namespace osprey::models
