// conv2d/cuda/cudnn under the TF32 switch: with TF32 allowed cuDNN may use tensor cores for f32
// (10-bit mantissas, results within about 1e-3 of the CPU's); switched off again, results are back
// to full f32 accuracy, so a choice cached under one setting is not reused under the other.
#include <gtest/gtest.h>

#include <random>

#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "tests/support/op_test_support.h"

namespace osprey::cuda {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(shape_numel(shape));
  for (auto& v : values) v = dist(rng);
  return Tensor::from_vector(values, shape);
}

// Restores the default (off) however the test leaves.
struct Tf32Scope {
  explicit Tf32Scope(bool allow) { set_allow_tf32(allow); }
  ~Tf32Scope() { set_allow_tf32(false); }
};

TEST(Conv2dCudnn, Tf32SwitchChangesAccuracyBoundsOnly) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto& registry = dispatch::Registry::instance();
  if (registry.kernels("conv2d", DeviceType::cuda).empty()) GTEST_SKIP() << "no cuDNN kernel";
  const Tensor x = random_tensor({4, 64, 16, 16}, 1), w = random_tensor({64, 64, 3, 3}, 2);
  const dispatch::Attrs attrs{{"stride", std::vector<int64_t>{1, 1}},
                              {"padding", std::vector<int64_t>{1, 1}},
                              {"dilation", std::vector<int64_t>{1, 1}},
                              {"groups", int64_t{1}}};
  registry.set_override("conv2d", DeviceType::cpu, "reference");
  const Tensor expected = dispatch::call1("conv2d", {x, w, Tensor()}, attrs);
  registry.clear_override("conv2d", DeviceType::cpu);
  const Tensor xg = x.to(Device::cuda()), wg = w.to(Device::cuda());
  {
    Tf32Scope tf32(true);
    const Tensor y = dispatch::call1("conv2d", {xg, wg, Tensor()}, attrs);
    // Sums of 576 products of values in [-1, 1]: TF32 rounding stays well inside 5e-2.
    EXPECT_TRUE(testing::compare(y, expected, {5e-2, 1e-2}).empty());
  }
  Tf32Scope fp32(false);
  const Tensor y = dispatch::call1("conv2d", {xg, wg, Tensor()}, attrs);
  auto message = testing::compare(y, expected, {1e-4, 1e-4});
  EXPECT_TRUE(message.empty()) << message;
}

}  // namespace
}  // namespace osprey::cuda
