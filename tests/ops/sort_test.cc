// Known values, stability, NaN order, gradients and error paths of sort and topk, run on every CPU
// kernel of each op.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/sort/index_scatter_grad.h"
#include "ops/sort/sort.h"
#include "tests/ops/kernel_loop.h"

namespace osprey {
namespace {

using testing::error_message;
using testing::for_each_cpu_kernel;
using I = std::vector<int64_t>;

TEST(Sort, KnownVector) {
  Tensor x = Tensor::from_vector<float>({3, 1, 2}, {3});
  for_each_cpu_kernel("sort", [&] {
    auto [v, i] = ops::sort(x);
    EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(i.to_vector<int64_t>(), (I{1, 2, 0}));
    auto [vd, id] = ops::sort(x, 0, true);
    EXPECT_EQ(vd.to_vector<float>(), (std::vector<float>{3, 2, 1}));
    EXPECT_EQ(id.to_vector<int64_t>(), (I{0, 2, 1}));
  });
}

TEST(Sort, IsStableInBothDirections) {
  Tensor x = Tensor::from_vector<double>({2, 1, 2, 1, 2}, {1, 5});
  for_each_cpu_kernel("sort", [&] {
    EXPECT_EQ(ops::sort(x, 1).second.to_vector<int64_t>(), (I{1, 3, 0, 2, 4}));
    EXPECT_EQ(ops::sort(x, 1, true).second.to_vector<int64_t>(), (I{0, 2, 4, 1, 3}));
    EXPECT_EQ(ops::sort(x, 1, false, false).second.to_vector<int64_t>(), (I{1, 3, 0, 2, 4}));
  });
}

TEST(Sort, NanSortsAsLargest) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({1, nan, 0, -2}, {4});
  for_each_cpu_kernel("sort", [&] {
    auto [v, i] = ops::sort(x);
    EXPECT_EQ(i.to_vector<int64_t>(), (I{3, 2, 0, 1}));
    EXPECT_TRUE(std::isnan(v.to_vector<float>()[3]));
    EXPECT_EQ(ops::sort(x, 0, true).second.to_vector<int64_t>(), (I{1, 0, 2, 3}));
  });
  for_each_cpu_kernel("topk", [&] {
    EXPECT_EQ(ops::topk(x, 2).second.to_vector<int64_t>(), (I{1, 0}));
    EXPECT_EQ(ops::topk(x, 2, 0, false).second.to_vector<int64_t>(), (I{3, 2}));
  });
}

TEST(Sort, AlongOtherDims) {
  Tensor x = Tensor::from_vector<float>({3, 0, 1, 4, 2, 5}, {3, 2});
  auto [v, i] = ops::sort(x, 0);
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{1, 0, 2, 4, 3, 5}));
  EXPECT_EQ(i.to_vector<int64_t>(), (I{1, 0, 2, 1, 0, 2}));
  Tensor half = Tensor::from_vector<float>({0.5f, -2, 1}, {3}).to(DType::f16);
  EXPECT_EQ(ops::sort(half).second.to_vector<int64_t>(), (I{1, 0, 2}));
  Tensor ints = Tensor::from_vector<int32_t>({5, -1, 3}, {3});
  EXPECT_EQ(ops::sort(ints).first.to_vector<int32_t>(), (std::vector<int32_t>{-1, 3, 5}));
}

TEST(Topk, KnownVector) {
  Tensor x = Tensor::from_vector<float>({1, 5, 3, 4, 2}, {5});
  for_each_cpu_kernel("topk", [&] {
    auto [v, i] = ops::topk(x, 3);
    EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{5, 4, 3}));
    EXPECT_EQ(i.to_vector<int64_t>(), (I{1, 3, 2}));
    auto [vs, is] = ops::topk(x, 3, -1, false);
    EXPECT_EQ(vs.to_vector<float>(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(is.to_vector<int64_t>(), (I{0, 4, 2}));
    EXPECT_EQ(ops::topk(x, 0).first.shape(), Shape{0});
    EXPECT_EQ(ops::topk(x, 5).second.to_vector<int64_t>(), (I{1, 3, 2, 4, 0}));
  });
  Tensor m = Tensor::from_vector<float>({1, 6, 7, 2, 3, 5}, {3, 2});
  auto [v, i] = ops::topk(m, 2, 0);
  EXPECT_EQ(v.shape(), (Shape{2, 2}));
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{7, 6, 3, 5}));
  EXPECT_EQ(i.to_vector<int64_t>(), (I{1, 0, 2, 2}));
}

TEST(Sort, GradientsFlowThroughIndices) {
  Tensor x = Tensor::from_vector<double>({3, 1, 2}, {3}).set_requires_grad();
  Tensor w = Tensor::from_vector<double>({1, 2, 3}, {3});
  ops::sum(ops::sort(x).first * w).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 1, 2}));

  Tensor y = Tensor::from_vector<double>({1, 5, 3, 4, 2}, {5}).set_requires_grad();
  ops::sum(ops::topk(y, 2).first * Tensor::from_vector<double>({10, 20}, {2})).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0, 10, 0, 20, 0}));
}

TEST(Sort, IndexScatterGradAccumulates) {
  Tensor g = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor idx = Tensor::from_vector<int64_t>({2, 2, 0, 1}, {2, 2});
  Tensor out = ops::index_scatter_grad(g, idx, 1, 3);
  EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{0, 0, 3, 3, 4, 0}));
  std::string msg = error_message([&] {
    ops::index_scatter_grad(g, Tensor::from_vector<int64_t>({0, 5, 0, 0}, {2, 2}), 1, 3);
  });
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
}

TEST(Sort, Errors) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {3});
  std::string msg = error_message([&] { ops::sort(x, 1); });
  EXPECT_NE(msg.find("sort"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  msg = error_message([&] { ops::topk(x, 4); });
  EXPECT_NE(msg.find("topk"), std::string::npos) << msg;
  msg = error_message([&] { ops::topk(x, -1); });
  EXPECT_NE(msg.find("topk"), std::string::npos) << msg;
}

}  // namespace
}  // namespace osprey
