// CUDA kernel paths that the ops' small case lists do not reach: block-per-output reductions,
// long rows, unaligned and large element-wise launches, device-side index errors. Each compares
// with the CPU reference kernel on the same values. Ops missing from this build are skipped.
#include <gtest/gtest.h>

#include <random>

#include "framework/dispatch/registry.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Attrs;

Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(static_cast<float>(lo), static_cast<float>(hi));
  std::vector<float> values(shape_numel(shape));
  for (auto& v : values) v = dist(rng);
  return Tensor::from_vector(values, shape);
}

// Runs `op` on the CPU reference and on CUDA with the same inputs and compares every output.
void expect_parity(const std::string& op, const std::vector<Tensor>& inputs, const Attrs& attrs,
                   testing::Tolerance tol = testing::tolerance_for(DType::f32)) {
  auto& registry = dispatch::Registry::instance();
  if (!registry.has_op(op) || registry.kernels(op, DeviceType::cuda).empty()) {
    GTEST_SKIP() << op << " has no CUDA kernel in this build";
  }
  registry.set_override(op, DeviceType::cpu, "reference");
  auto expected = dispatch::call(op, inputs, attrs);
  registry.clear_override(op, DeviceType::cpu);
  std::vector<Tensor> on_gpu;
  for (const auto& t : inputs) on_gpu.push_back(t.defined() ? t.to(Device::cuda()) : t);
  auto actual = dispatch::call(op, on_gpu, attrs);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_TRUE(actual[i].device().is_cuda()) << op;
    auto message = testing::compare(actual[i], expected[i], tol);
    EXPECT_TRUE(message.empty()) << op << " output " << i << ": " << message;
  }
}

TEST(CudaKernelPaths, SumToScalarUsesBlockReduction) {
  OSPREY_SKIP_WITHOUT_GPU();
  expect_parity("sum_to", {random_tensor({1000, 300}, 1)}, Attrs{{"shape", Shape{}}}, {1e-3, 1e-4});
}

TEST(CudaKernelPaths, SumToBiasGradient) {
  OSPREY_SKIP_WITHOUT_GPU();
  expect_parity("sum_to", {random_tensor({512, 64}, 2)}, Attrs{{"shape", Shape{64}}}, {1e-4, 1e-4});
}

TEST(CudaKernelPaths, SumOverLargeMiddleDim) {
  OSPREY_SKIP_WITHOUT_GPU();
  expect_parity("sum", {random_tensor({4, 5000, 3}, 3)},
                Attrs{{"dims", std::vector<int64_t>{1}}, {"keepdim", false}}, {1e-3, 1e-4});
}

TEST(CudaKernelPaths, ElementwiseLargeAndUnaligned) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor a = random_tensor({1 << 20}, 4), b = random_tensor({1 << 20}, 5);
  expect_parity("add", {a, b}, Attrs{{"alpha", 0.5}});
  // Views one element off a 16-byte boundary on the device: the vector path must not be taken.
  const int64_t n = 1 << 20;
  Tensor expected = dispatch::call1("mul", {a.slice(0, 1, n), b.slice(0, 0, n - 1)});
  Tensor actual = dispatch::call1(
      "mul", {a.to(Device::cuda()).slice(0, 1, n), b.to(Device::cuda()).slice(0, 0, n - 1)});
  auto message = testing::compare(actual, expected, testing::tolerance_for(DType::f32));
  EXPECT_TRUE(message.empty()) << message;
}

TEST(CudaKernelPaths, CastsThroughHalfTypes) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor a = random_tensor({1001}, 6, -100, 100);
  for (DType dtype : {DType::f16, DType::bf16, DType::i32, DType::f64}) {
    expect_parity("cast", {a}, Attrs{{"dtype", dtype}}, {0, 0});
  }
}

TEST(CudaKernelPaths, SoftmaxLongRowsAndColumns) {
  OSPREY_SKIP_WITHOUT_GPU();
  expect_parity("softmax", {random_tensor({8, 10000}, 7, -10, 10)}, Attrs{{"dim", 1}});
  expect_parity("log_softmax", {random_tensor({64, 33, 5}, 8, -10, 10)}, Attrs{{"dim", 1}});
}

TEST(CudaKernelPaths, ArgmaxLongRows) {
  OSPREY_SKIP_WITHOUT_GPU();
  expect_parity("max", {random_tensor({16, 20000}, 9)}, Attrs{{"dim", 1}});
  expect_parity("argmin", {random_tensor({20000, 16}, 10)}, Attrs{{"dim", 0}});
}

TEST(CudaKernelPaths, LargeMatmulAgainstReference) {
  OSPREY_SKIP_WITHOUT_GPU();
  expect_parity("matmul", {random_tensor({3, 129, 70}, 11), random_tensor({70, 65}, 12)}, {},
                {1e-4, 1e-4});
  expect_parity("bmm", {random_tensor({4, 33, 17}, 13), random_tensor({4, 17, 9}, 14)}, {},
                {1e-4, 1e-4});
}

TEST(CudaKernelPaths, OutOfRangeIndexIsAValueError) {
  OSPREY_SKIP_WITHOUT_GPU();
  if (!dispatch::Registry::instance().has_op("gather")) GTEST_SKIP() << "no gather op";
  Tensor input = random_tensor({3, 4}, 15).to(Device::cuda());
  Tensor index = Tensor::from_vector<int64_t>({0, 7}, {1, 2}).to(Device::cuda());
  try {
    dispatch::call("gather", {input, index}, Attrs{{"dim", 1}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::value) << e.what();
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace osprey
