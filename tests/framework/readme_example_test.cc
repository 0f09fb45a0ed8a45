// The README's C++ example, kept compiling and true.
#include <gtest/gtest.h>

#include "ops/ops.h"

namespace osprey {
namespace {

TEST(Readme, ExampleDifferentiates) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}).set_requires_grad();
  Tensor y = ops::sum(ops::mul(x, x));
  y.backward();  // x.grad() == 2 * x
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_EQ(y.item<float>(), 30.0f);
}

TEST(Readme, MlpLayerOnEveryPath) {
  random::Generator gen(7);
  Tensor w = ops::uniform({3, 2}, -0.5, 0.5, gen).set_requires_grad();
  Tensor b = ops::zeros({3}).set_requires_grad();
  Tensor x = ops::uniform({4, 2}, -1, 1, gen);
  Tensor loss = ops::mean(ops::tanh(ops::linear(x, w, b)) * 2.0);
  loss.backward();
  EXPECT_EQ(w.grad().shape(), (Shape{3, 2}));
  EXPECT_EQ(b.grad().shape(), (Shape{3}));
}

}  // namespace
}  // namespace osprey
