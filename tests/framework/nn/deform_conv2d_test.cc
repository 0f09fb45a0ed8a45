// nn::DeformConv2d: with its zero-initialised offset conv it computes the plain convolution
// (v1, and v2 whose mask starts at mask_scale · sigmoid(0) = 1), and gradients reach the offset
// conv.
#include "framework/nn/layers/deform_conv2d.h"

#include <gtest/gtest.h>

#include "ops/ops.h"
#include "tests/support/op_test_support.h"

namespace osprey::nn {
namespace {

Tensor image(const Shape& shape, uint64_t seed = 11) {
  random::Generator generator(seed);
  return ops::normal(shape, 0.0, 1.0, generator);
}

TEST(DeformConv2dModule, ZeroOffsetsGiveThePlainConvolution) {
  for (const bool modulated : {false, true}) {
    DeformConv2dOptions options;
    options.in_channels = 4;
    options.out_channels = 6;
    options.stride = {2, 2};
    options.padding = {2, 2};
    options.dilation = {2, 2};
    options.offset_groups = 2;
    options.bias = true;
    options.modulated = modulated;
    DeformConv2d deform(options);
    EXPECT_EQ(deform.conv_offset->weight.shape()[0], (modulated ? 3 : 2) * 2 * 9);
    const Tensor x = image({2, 4, 9, 9});
    const Tensor expected = ops::conv2d(x, deform.weight, deform.bias, {2, 2}, {2, 2}, {2, 2}, 1);
    EXPECT_EQ(testing::compare(deform(x), expected, {1e-5, 1e-5}), "") << modulated;
  }
}

TEST(DeformConv2dModule, GradientsReachTheOffsetConv) {
  DeformConv2dOptions options;
  options.in_channels = 2;
  options.out_channels = 3;
  DeformConv2d deform(options);
  const Tensor x = image({1, 2, 5, 5});
  ops::sum(ops::mul(deform(x), deform(x))).backward();
  EXPECT_TRUE(deform.weight.grad().defined());
  ASSERT_TRUE(deform.conv_offset->weight.grad().defined());
  EXPECT_GT(ops::sum(ops::abs(deform.conv_offset->weight.grad())).item<float>(), 0.0f);
}

}  // namespace
}  // namespace osprey::nn
