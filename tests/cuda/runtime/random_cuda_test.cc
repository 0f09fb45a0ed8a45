// The Philox random ops on the GPU: uniform and bernoulli give the CPU's values bit for bit and
// normal agrees to rounding, for the same generator state; the kernels run on the current stream
// (a non-default stream here, waited for before reading); a strided preset output is refused.
// Skips without a GPU.
#include <gtest/gtest.h>

#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "ops/random/random.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

TEST(RandomCuda, UniformAndBernoulliMatchCpuExactly) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::f32, DType::f64}) {
    random::Generator cpu_gen(7), gpu_gen(7);
    Tensor expected = ops::uniform({1001}, -1.0, 2.0, cpu_gen, dtype);
    Tensor actual = ops::uniform({1001}, -1.0, 2.0, gpu_gen, dtype, Device::cuda());
    ASSERT_TRUE(actual.device().is_cuda());
    EXPECT_EQ(actual.cpu().to(DType::f64).to_vector<double>(),
              expected.to(DType::f64).to_vector<double>());

    Tensor p = ops::uniform({3, 333}, 0.0, 1.0, cpu_gen, dtype);
    Tensor expected_draws = ops::bernoulli(p, cpu_gen);
    ops::uniform({3, 333}, 0.0, 1.0, gpu_gen, dtype);  // keep the two generators in step
    Tensor actual_draws = ops::bernoulli(p.to(Device::cuda()), gpu_gen);
    EXPECT_EQ(actual_draws.cpu().to(DType::f64).to_vector<double>(),
              expected_draws.to(DType::f64).to_vector<double>());
  }
}

TEST(RandomCuda, NormalMatchesCpuToRounding) {
  OSPREY_SKIP_WITHOUT_GPU();
  random::Generator cpu_gen(3), gpu_gen(3);
  Tensor expected = ops::normal({4097}, 0.5, 2.0, cpu_gen);
  Tensor actual = ops::normal({4097}, 0.5, 2.0, gpu_gen, DType::f32, Device::cuda());
  auto message = testing::compare(actual.cpu(), expected, {1e-5, 1e-5});
  EXPECT_TRUE(message.empty()) << message;
}

TEST(RandomCuda, RunsOnTheCurrentStream) {
  OSPREY_SKIP_WITHOUT_GPU();
  random::Generator cpu_gen(11), gpu_gen(11);
  Tensor expected = ops::uniform({1 << 20}, 0.0, 1.0, cpu_gen);
  cuda::Stream stream;
  Tensor actual;
  {
    cuda::StreamGuard guard(stream.get());
    actual = ops::uniform({1 << 20}, 0.0, 1.0, gpu_gen, DType::f32, Device::cuda());
  }
  stream.synchronize();  // the non-blocking stream is not ordered with the copy below otherwise
  EXPECT_EQ(actual.cpu().to_vector<float>(), expected.to_vector<float>());
}

TEST(RandomCuda, RefusesStridedPresetOutput) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor strided = Tensor::empty({4, 2}, DType::f32, Device::cuda()).transpose(0, 1);
  try {
    dispatch::call("uniform", {}, {{"shape", std::vector<int64_t>{2, 4}}}, {strided});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must be contiguous"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace osprey
