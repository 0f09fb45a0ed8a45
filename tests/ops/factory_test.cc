// zeros/ones/full(_like) and arange: values, dtypes, shapes and argument errors.
#include <gtest/gtest.h>

#include "framework/dispatch/registry.h"
#include "ops/factory/factory.h"

namespace osprey {
namespace {

TEST(Factory, FilledTensors) {
  Tensor z = ops::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_FALSE(z.requires_grad());
  EXPECT_EQ(ops::ones({4}, DType::i64).to_vector<int64_t>(), std::vector<int64_t>(4, 1));
  EXPECT_EQ(ops::full({2}, 2.5, DType::f64).to_vector<double>(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(ops::full({}, -1.0).item<float>(), -1.0f);
  EXPECT_EQ(ops::full({0, 3}, 7.0).numel(), 0);
  EXPECT_EQ(ops::full({1}, 0.1, DType::bf16).dtype(), DType::bf16);
}

TEST(Factory, LikeFormsCopyShapeDtypeAndDevice) {
  Tensor x = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose(0, 1);
  Tensor z = ops::zeros_like(x);
  EXPECT_EQ(z.shape(), (Shape{3, 2}));
  EXPECT_EQ(z.dtype(), DType::i32);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.to_vector<int32_t>(), std::vector<int32_t>(6, 0));
  EXPECT_EQ(ops::ones_like(x).to_vector<int32_t>(), std::vector<int32_t>(6, 1));
  EXPECT_EQ(ops::full_like(x, 9.0).to_vector<int32_t>(), std::vector<int32_t>(6, 9));
  Tensor leaf = Tensor::from_vector<double>({1.0}, {1}).set_requires_grad();
  EXPECT_FALSE(ops::ones_like(leaf).requires_grad());
}

TEST(Arange, Values) {
  EXPECT_EQ(ops::arange(5).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ops::arange(0, 1, 0.25, DType::f64).to_vector<double>(),
            (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(ops::arange(3, -2, -1.5, DType::f64).to_vector<double>(),
            (std::vector<double>{3, 1.5, 0, -1.5}));
  auto v = ops::arange(0.5, 2.0, 0.4, DType::f64).to_vector<double>();  // 2.0 is not reached
  ASSERT_EQ(v.size(), 4u);
  EXPECT_NEAR(v[3], 1.7, 1e-12);
  Tensor i = ops::arange(-3, 7, 2, DType::i64);
  EXPECT_EQ(i.dtype(), DType::i64);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{-3, -1, 1, 3, 5}));
  EXPECT_EQ(ops::arange(2, 2).numel(), 0);
  EXPECT_EQ(ops::arange(4, DType::f16).to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(ops::arange_length(0, 10, 3), 4);
}

TEST(Arange, ThroughTheDispatcherAllocatesOnCpu) {
  Tensor t = dispatch::call1("arange", {}, {{"end", 3.0}, {"dtype", DType::i32}});
  EXPECT_EQ(t.device(), Device::cpu());
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(dispatch::last_kernel_key(), "arange/cpu/reference");
}

TEST(Arange, Errors) {
  auto message = [](const std::function<void()>& fn) -> std::string {
    try {
      fn();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message([] { ops::arange(0, 1, 0); }).find("step must be non-zero"), std::string::npos);
  EXPECT_NE(message([] { ops::arange(0, 5, -1); }).find("points away from end"), std::string::npos);
  std::string m = message([] { dispatch::call1("arange", {}, {{"end", 1.0}, {"step", 0.0}}); });
  EXPECT_NE(m.find("'arange'"), std::string::npos) << m;
  EXPECT_NE(message([] { dispatch::call1("arange", {}, {}); }).find("'end'"), std::string::npos);
}

}  // namespace
}  // namespace osprey
