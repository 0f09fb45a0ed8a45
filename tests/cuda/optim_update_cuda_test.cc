// The fused multi-tensor optimiser updates on the GPU against the CPU reference, over the ops' own
// case lists (f32 and f64). The generic parity test compares outputs, and these ops have none:
// they write their inputs, so this test compares the updated inputs. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/dispatch/registry.h"
#include "framework/optim/grad_clip.h"
#include "framework/optim/sgd.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

std::vector<Tensor> clones(const std::vector<Tensor>& inputs, Device device) {
  std::vector<Tensor> out;
  for (const auto& t : inputs) out.push_back(t.detach().clone().to(device));
  return out;
}

class OptimUpdateCuda : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimUpdateCuda, MultiTensorMatchesCpuReference) {
  OSPREY_SKIP_WITHOUT_GPU();
  const std::string& op = GetParam();
  auto& registry = dispatch::Registry::instance();
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const auto& c : registry.op(op).cases(dtype, 3)) {
      std::vector<Tensor> cpu = clones(c.inputs, Device::cpu());
      std::vector<Tensor> gpu = clones(c.inputs, Device::cuda());
      dispatch::call(op, cpu, c.attrs);
      dispatch::call(op, gpu, c.attrs);
      EXPECT_EQ(dispatch::last_kernel_key(), op + "/cuda/multi_tensor");
      for (size_t i = 0; i < cpu.size(); ++i) {
        auto message = testing::compare(gpu[i].cpu(), cpu[i], testing::tolerance_for(dtype));
        EXPECT_TRUE(message.empty()) << op << " case " << c.name << " " << dtype_name(dtype)
                                     << " tensor " << i << ": " << message;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, OptimUpdateCuda, ::testing::Values("sgd_update", "adamw_update"),
                         [](const auto& info) { return info.param; });

// An optimiser over CUDA parameters steps through the multi-tensor kernel and agrees with the
// same optimiser on the CPU; gradient clipping and the non-finite check work on CUDA gradients.
TEST(OptimCuda, SgdStepClipAndNonFiniteCheck) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto make = [](Device device) {
    optim::NamedParameters params;
    for (int64_t k = 1; k <= 3; ++k) {
      std::vector<float> v(static_cast<size_t>(k * 1000));
      for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.01f * static_cast<float>(i * k));
      Tensor p = Tensor::from_vector(v, {k, 1000}).to(device);
      p.set_requires_grad(true);
      p.set_grad(Tensor::from_vector(v, {k, 1000}).to(device));
      params.emplace_back("layer" + std::to_string(k) + ".weight", p);
    }
    return params;
  };
  auto cpu = make(Device::cpu());
  auto gpu = make(Device::cuda());
  const double cpu_norm = optim::clip_grad_norm(cpu, 1.0);
  const double gpu_norm = optim::clip_grad_norm(gpu, 1.0);
  EXPECT_NEAR(gpu_norm, cpu_norm, 1e-4 * cpu_norm);
  optim::SgdOptions options{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4};
  optim::Sgd cpu_sgd(cpu, options), gpu_sgd(gpu, options);
  cpu_sgd.step();
  gpu_sgd.step();
  EXPECT_EQ(dispatch::last_kernel_key(), "sgd_update/cuda/multi_tensor");
  for (size_t i = 0; i < cpu.size(); ++i) {
    auto message = testing::compare(gpu[i].second.cpu(), cpu[i].second, {1e-5, 1e-5});
    EXPECT_TRUE(message.empty()) << cpu[i].first << ": " << message;
  }
  EXPECT_FALSE(optim::first_nonfinite_grad(gpu).has_value());
  std::vector<float> bad(2000, 0.0f);
  bad[1234] = std::nanf("");
  gpu[1].second.set_grad(Tensor::from_vector(bad, {2, 1000}).to(Device::cuda()));
  EXPECT_EQ(optim::first_nonfinite_grad(gpu).value_or("none"), "layer2.weight");
}

}  // namespace
}  // namespace osprey
