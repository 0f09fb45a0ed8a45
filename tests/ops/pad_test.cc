// pad and pad_backward: hand-computed values for each mode, negative (cropping) constant pads,
// layouts, gradients through reflect/replicate, and error messages.
#include <gtest/gtest.h>

#include "ops/elementwise/elementwise.h"
#include "ops/pad/pad.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;
using D = std::vector<double>;

Tensor values(const D& v, const Shape& shape) {
  return Tensor::from_vector<double>(v, shape);
}

TEST(Pad, ConstantOneDim) {
  Tensor x = values({1, 2, 3}, {3});
  for_each_cpu_kernel("pad", [&] {
    Tensor y = ops::pad(x, {2, 1}, "constant", -1.0);
    EXPECT_EQ(y.shape(), (Shape{6}));
    EXPECT_EQ(y.to_vector<double>(), (D{-1, -1, 1, 2, 3, -1}));
  });
}

TEST(Pad, ConstantTwoDimsAndCrop) {
  Tensor x = values({1, 2, 3, 4, 5, 6}, {2, 3});
  for_each_cpu_kernel("pad", [&] {
    // last dim: 1 left, 0 right; first dim: 0 before, 1 after.
    EXPECT_EQ(ops::pad(x, {1, 0, 0, 1}).to_vector<double>(),
              (D{0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0}));
    // Negative amounts crop: drop the first column, add one after the last.
    Tensor y = ops::pad(x, {-1, 1}, "constant", 9.0);
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(y.to_vector<double>(), (D{2, 3, 9, 5, 6, 9}));
  });
}

TEST(Pad, Reflect) {
  Tensor x = values({1, 2, 3, 4}, {1, 4});
  Tensor x2 = values({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  for_each_cpu_kernel("pad", [&] {
    EXPECT_EQ(ops::pad(x, {3, 2}, "reflect").to_vector<double>(), (D{4, 3, 2, 1, 2, 3, 4, 3, 2}));
    EXPECT_EQ(ops::pad(x2, {1, 1, 1, 0}, "reflect").to_vector<double>(),
              (D{5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8, 9, 8}));
  });
}

TEST(Pad, Replicate) {
  Tensor x = values({1, 2, 3}, {1, 3});
  Tensor x2 = values({1, 2, 3, 4}, {2, 2});
  for_each_cpu_kernel("pad", [&] {
    EXPECT_EQ(ops::pad(x, {2, 3}, "replicate").to_vector<double>(), (D{1, 1, 1, 2, 3, 3, 3, 3}));
    EXPECT_EQ(ops::pad(x2, {0, 1, 1, 0}, "replicate").to_vector<double>(),
              (D{1, 2, 2, 1, 2, 2, 3, 4, 4}));
  });
}

TEST(Pad, StridedAndChannelsLastMatchContiguous) {
  D v;
  for (int i = 0; i < 2 * 3 * 4 * 5; ++i) v.push_back(i);
  Tensor x = values(v, {2, 3, 4, 5});
  for (const char* mode : {"constant", "reflect", "replicate"}) {
    Tensor expected = ops::pad(x, {2, 1, 3, 1}, mode);
    for (Tensor other : {x.contiguous(MemoryFormat::channels_last),
                         x.transpose(2, 3).contiguous().transpose(2, 3)}) {
      EXPECT_EQ(ops::pad(other, {2, 1, 3, 1}, mode).to_vector<double>(),
                expected.to_vector<double>())
          << mode;
    }
  }
}

TEST(Pad, BackwardAccumulates) {
  Tensor g = values({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 9});
  for_each_cpu_kernel("pad_backward", [&] {
    // reflect {3, 2} of [a b c d] reads d c b a b c d c b.
    EXPECT_EQ(ops::pad_backward(g, {3, 2}, "reflect", {1, 4}).to_vector<double>(),
              (D{4, 3 + 5 + 9, 2 + 6 + 8, 1 + 7}));
    // replicate {2, 3} of [a b c d] reads a a a b c d d d d.
    EXPECT_EQ(ops::pad_backward(g, {2, 3}, "replicate", {1, 4}).to_vector<double>(),
              (D{1 + 2 + 3, 4, 5, 6 + 7 + 8 + 9}));
    // constant {-1, 2} of [a b c d e f g 0] keeps the inputs it read.
    EXPECT_EQ(ops::pad_backward(values({1, 2, 3, 4, 5, 6, 7, 8}, {8}), {-1, 2}, "constant", {7})
                  .to_vector<double>(),
              (D{0, 1, 2, 3, 4, 5, 6}));
  });
}

TEST(Pad, AutogradThroughReflect) {
  Tensor x = values({1, 2, 3, 4}, {4});
  x.set_requires_grad();
  ops::sum(ops::pad(x, {2, 1}, "reflect")).backward();
  // reads c b a b c d c
  EXPECT_EQ(x.grad().to_vector<double>(), (D{1, 2, 3, 1}));
}

TEST(Pad, Errors) {
  Tensor x = values({1, 2, 3}, {1, 3});
  std::string m = error_message([&] { ops::pad(x, {3, 0}, "reflect"); });
  EXPECT_NE(m.find("pad: reflect pad (3, 0) of dim 1 must be less than its size 3"),
            std::string::npos)
      << m;
  m = error_message([&] { ops::pad(x, {1}); });
  EXPECT_NE(m.find("pad: pad [1] must have an even length"), std::string::npos) << m;
  m = error_message([&] { ops::pad(x, {1, 1, 1, 1, 1, 1}); });
  EXPECT_NE(m.find("has 3 pairs but the input [1, 3] has only 2 dims"), std::string::npos) << m;
  m = error_message([&] { ops::pad(x, {1, 1}, "circular"); });
  EXPECT_NE(m.find("pad: mode must be constant, reflect or replicate, got 'circular'"),
            std::string::npos)
      << m;
  m = error_message([&] { ops::pad(x, {-1, 0}, "replicate"); });
  EXPECT_NE(m.find("replicate mode needs non-negative pad"), std::string::npos) << m;
  m = error_message([&] { ops::pad(x, {-2, -2}); });
  EXPECT_NE(m.find("leaves a negative size"), std::string::npos) << m;
  m = error_message([&] { ops::pad(values({}, {1, 0}), {1, 1}, "replicate"); });
  EXPECT_NE(m.find("replicate pad of dim 1 needs a non-empty dim"), std::string::npos) << m;
  m = error_message([&] { ops::pad_backward(x, {1, 1}, "constant", {1, 3}); });
  EXPECT_NE(m.find("pad_backward: grad_output [1, 3] must have the padded shape [1, 5]"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace osprey
