// build_model: presets, overrides and validation errors naming the spec's field path.
#include "models/model_factory.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "models/backbones/resnet.h"
#include "ops/ops.h"

namespace osprey::models {
namespace {

proto::ModelSpec parse(const std::string& text) {
  proto::ModelSpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec)) << text;
  return spec;
}

std::string build_error(const std::string& text) {
  random::Generator generator(1);
  try {
    build_model(parse(text), generator);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(ModelFactory, BuildsAClassifierFromAPreset) {
  random::Generator generator(1);
  auto model = build_model(parse(R"(backbone { preset: "resnet20" in_channels: 1 }
                                    classification_head { num_classes: 10 })"),
                           generator);
  EXPECT_EQ(model->parameter_count(), 272474 - 2 * 16 * 9);  // one input channel, not three
  const auto parameters = model->named_parameters();
  EXPECT_EQ(parameters.front().first, "backbone.stem.conv.weight");
  EXPECT_EQ(parameters[parameters.size() - 2].first, "head.fc.weight");
  EXPECT_EQ(parameters.back().first, "head.fc.bias");
  EXPECT_EQ((*model)(ops::zeros({2, 1, 28, 28})).shape(), (Shape{2, 10}));
}

TEST(ModelFactory, OverridesApplyOverThePreset) {
  random::Generator generator(1);
  auto model = build_model(parse(R"(backbone {
      preset: "resnet101" depths: [1, 1, 1, 1] widths: [2, 2, 4, 4] stem_width: 4
      stem: SMALL_IMAGE last_stage_dilation: 2 norm: FROZEN_BATCH_NORM frozen_stages: 1
      deformable { stage: "res5" version: DCN_V1 offset_groups: 2 } })"),
                           generator);
  auto& net = dynamic_cast<ResNet&>(*model);
  EXPECT_EQ(net.options().block, BlockType::bottleneck);
  EXPECT_EQ(net.options().stem, StemType::small_image);
  EXPECT_EQ(net.options().norm.type, NormType::frozen_batch_norm);
  EXPECT_EQ(net.out_channels(), 16);
  EXPECT_EQ(net.feature_stride("res5"), 4);  // small-image stem, stride 1 in the dilated res5
  EXPECT_EQ(net.options().deformable.at(0).offset_groups, 2);
  EXPECT_EQ(net.options().deformable.at(0).version, 1);
  EXPECT_FALSE(net.named_parameters().front().second.requires_grad());  // stem frozen
}

TEST(ModelFactory, ErrorsNameTheFieldPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(classification_head { num_classes: 3 })", "model.backbone: not set"},
      {R"(backbone { preset: "resnet19" })",
       "model.backbone.preset: unknown preset 'resnet19' (presets: resnet18, resnet34, resnet50, "
       "resnet101, resnet152, resnet20, resnet32, resnet56)"},
      {R"(backbone { depths: [1] })", "model.backbone.preset: not set"},
      {R"(backbone { preset: "resnet20" depths: [1, 1, 1, 1] })",
       "model.backbone.widths: 3 values but depths has 4 (one of each per stage)"},
      {R"(backbone { preset: "resnet20" depths: [1, 0, 1] })",
       "model.backbone.depths[1]: must be at least 1, got 0"},
      {R"(backbone { preset: "resnet20" deformable { stage: "res6" } })",
       "model.backbone.deformable[0].stage: no stage 'res6' in resnet20 (stages: stage1, stage2, "
       "stage3)"},
      {R"(backbone { preset: "resnet18" deformable { stage: "res5" }
                     deformable { stage: "res5" } })",
       "model.backbone.deformable[1].stage: stage 'res5' is already listed"},
      {R"(backbone { preset: "resnet20" deformable { stage: "stage3" first_block: 3 } })",
       "model.backbone.deformable[0].first_block: must be in [0, 3)"},
      {R"(backbone { preset: "resnet20" deformable { stage: "stage2" offset_groups: 3 } })",
       "model.backbone.deformable[0].offset_groups: must be positive and divide the 32"},
      {R"(backbone { preset: "resnet20" deformable { stage: "stage2" boundary: "edge" } })",
       "model.backbone.deformable[0].boundary: must be"},
      {R"(backbone { preset: "resnet20" frozen_stages: 5 })",
       "model.backbone.frozen_stages: must be in [0, 4]"},
      {R"(backbone { preset: "resnet20" last_stage_dilation: 0 })",
       "model.backbone.last_stage_dilation: must be at least 1"},
      {R"(backbone { preset: "resnet20" } classification_head { })",
       "model.classification_head.num_classes: must be at least 1, got 0"},
      {R"(backbone { preset: "resnet20" } classification_head { num_classes: 2 dropout: 1 })",
       "model.classification_head.dropout: must be in [0, 1)"},
  };
  for (const auto& [text, expected] : cases)
    EXPECT_NE(build_error(text).find(expected), std::string::npos)
        << text << "\n  got: " << build_error(text);
}

}  // namespace
}  // namespace osprey::models
