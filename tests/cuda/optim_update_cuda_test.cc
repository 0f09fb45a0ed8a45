// The fused multi-tensor optimiser updates on the GPU against the CPU reference, over the ops' own
// case lists (f32 and f64). The generic parity test compares outputs, and these ops have none:
// they write their inputs, so this test compares the updated inputs. Skips without a GPU.
#include <gtest/gtest.h>

#include "framework/dispatch/registry.h"
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

}  // namespace
}  // namespace osprey
