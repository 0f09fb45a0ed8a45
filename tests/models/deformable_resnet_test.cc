// Deformable stages: a DeformConv2d whose offset conv is zero computes the plain convolution, so
// a deformable block starts as the same block with a plain conv.
#include <gtest/gtest.h>

#include "framework/nn/nn.h"
#include "models/backbones/resnet.h"
#include "models/backbones/resnet_presets.h"
#include "ops/ops.h"
#include "tests/support/op_test_support.h"

namespace osprey::models {
namespace {

Tensor image(const Shape& shape, uint64_t seed = 11) {
  random::Generator generator(seed);
  return ops::normal(shape, 0.0, 1.0, generator);
}

ResNetOptions small_bottleneck_net() {
  ResNetOptions options = resnet_preset("resnet50");
  options.depths = {1, 1, 1, 2};
  options.widths = {4, 4, 8, 8};
  options.stem_width = 8;
  options.last_stage_dilation = 2;
  return options;
}

TEST(DeformableResNet, ZeroOffsetStageMatchesThePlainNetwork) {
  for (const int version : {1, 2}) {
    ResNetOptions plain_options = small_bottleneck_net();
    ResNetOptions deform_options = plain_options;
    deform_options.deformable.push_back(
        {.stage = "res5", .version = version, .offset_groups = 2, .first_block = 0});
    random::Generator g1(5), g2(5);
    ResNet plain(plain_options, g1);
    ResNet deformable(deform_options, g2);
    EXPECT_EQ(deformable.submodule("res5.b1.conv2").describe().rfind("DeformConv2d", 0), 0u);
    EXPECT_EQ(deformable.submodule("res4.b0.conv2").describe().rfind("Conv2d", 0), 0u);
    // Copy every weight of the plain net; the offset convs keep their zeros.
    const auto report = deformable.load_state_dict(plain.state_dict(), /*strict=*/false);
    EXPECT_TRUE(report.missing.size() == 4u && report.unexpected.empty())
        << report.missing.size() << " missing";
    for (const auto& name : report.missing) EXPECT_NE(name.find("conv_offset"), std::string::npos);
    plain.eval();
    deformable.eval();
    const Tensor x = image({1, 3, 48, 48});
    EXPECT_EQ(testing::compare(deformable(x), plain(x), {1e-5, 1e-4}), "") << "v" << version;
  }
}

TEST(DeformableResNet, FirstBlockAndBoundaryAreApplied) {
  ResNetOptions options = small_bottleneck_net();
  options.deformable.push_back(
      {.stage = "res5", .version = 1, .first_block = 1, .boundary = "mxnet_v1"});
  random::Generator generator(1);
  ResNet net(options, generator);
  EXPECT_EQ(net.submodule("res5.b0.conv2").describe().rfind("Conv2d", 0), 0u);
  const std::string described = net.submodule("res5.b1.conv2").describe();
  EXPECT_NE(described.find("v1"), std::string::npos) << described;
  EXPECT_NE(described.find("mxnet_v1"), std::string::npos) << described;
  EXPECT_NE(described.find("dilation=2"), std::string::npos) << described;
}

}  // namespace
}  // namespace osprey::models
