// arange on the GPU: every case of its case list in every dtype gives the CPU reference's values
// bit for bit (the CUDA kernel rounds i*step and start + i*step separately, like the host; f64 is
// allowed its last bit, see below), into a fresh or a strided preset output. Skips without a GPU.
#include <gtest/gtest.h>

#include "framework/dispatch/registry.h"
#include "ops/factory/factory.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

std::vector<double> values(const Tensor& t) {
  return t.cpu().to(DType::f64).to_vector<double>();
}

TEST(ArangeCuda, MatchesCpuReferenceExactly) {
  OSPREY_SKIP_WITHOUT_GPU();
  const auto& def = dispatch::Registry::instance().op("arange");
  for (DType dtype : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64}) {
    for (const auto& c : def.cases(dtype, 0)) {
      Tensor expected = dispatch::call1("arange", {}, c.attrs);
      Tensor out = Tensor::empty(expected.shape(), expected.dtype(), Device::cuda());
      Tensor actual = dispatch::call("arange", {}, c.attrs, {out}).at(0);
      EXPECT_TRUE(actual.device().is_cuda());
      if (dtype == DType::f64) {
        // A host build with -march=native (OSPREY_NATIVE) may let the compiler fuse the
        // reference's start + i*step into an fma, which changes the last bit of some f64 values.
        auto message = testing::compare(actual.cpu(), expected, {1e-15, 1e-15});
        EXPECT_TRUE(message.empty()) << c.name << ": " << message;
      } else {
        EXPECT_EQ(values(actual), values(expected)) << c.name << " " << dtype_name(dtype);
      }
    }
  }
}

TEST(ArangeCuda, WritesStridedOutput) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor base = ops::zeros({10}, DType::f32, Device::cuda());
  Tensor every_other = base.slice(0, 0, 10, 2);
  dispatch::call("arange", {}, {{"start", 1.0}, {"end", 6.0}, {"dtype", DType::f32}},
                 {every_other});
  EXPECT_EQ(values(base), (std::vector<double>{1, 0, 2, 0, 3, 0, 4, 0, 5, 0}));
}

TEST(ArangeCuda, FactoryFunctionRunsOnTheDevice) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor t = ops::arange(0.0, 1.0, 0.25, DType::f64, Device::cuda());
  EXPECT_TRUE(t.device().is_cuda());
  EXPECT_EQ(values(t), (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(values(ops::arange(0, 250, 1, DType::u8, Device::cuda())),
            values(ops::arange(0, 250, 1, DType::u8)));
}

}  // namespace
}  // namespace osprey
