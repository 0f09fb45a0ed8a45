// Drives every registered op through its own case list: the double-precision gradient check on
// the reference kernel, and every other CPU kernel against the reference (f32 and f64).
#include <gtest/gtest.h>

#include "framework/autograd/grad_mode.h"
#include "framework/autograd/gradcheck.h"
#include "framework/dispatch/registry.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Registry;

class OpCases : public ::testing::TestWithParam<std::string> {};

TEST_P(OpCases, GradientCheckOnReference) {
  const auto& def = Registry::instance().op(GetParam());
  if (!def.backward) GTEST_SKIP() << GetParam() << " is not differentiable";
  int checked = 0;
  for (const auto& c : def.cases(DType::f64, 7)) {
    if (c.skip_gradcheck) continue;
    bool any_differentiable = false;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      any_differentiable |= c.inputs[i].defined() && is_floating(c.inputs[i].dtype()) &&
                            def.schema.input_spec(i).differentiable;
    }
    if (!any_differentiable) continue;
    auto result = autograd::gradcheck_op(GetParam(), c);
    EXPECT_TRUE(result.ok) << result.message;
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no case of " << GetParam() << " was gradient-checked";
}

TEST_P(OpCases, CpuKernelsMatchReference) {
  auto& registry = Registry::instance();
  const auto& def = registry.op(GetParam());
  auto kernels = registry.kernels(GetParam(), DeviceType::cpu);
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const auto& c : def.cases(dtype, 11)) {
      registry.set_override(GetParam(), DeviceType::cpu, "reference");
      std::vector<Tensor> expected;
      try {
        expected = dispatch::call(GetParam(), c.inputs, c.attrs);
      } catch (const Error& e) {
        registry.clear_override(GetParam(), DeviceType::cpu);
        ADD_FAILURE() << "reference failed on case " << c.name << ": " << e.what();
        continue;
      }
      for (const auto* k : kernels) {
        if (k->impl == "reference") continue;
        registry.set_override(GetParam(), DeviceType::cpu, k->impl);
        std::vector<Tensor> actual;
        try {
          actual = dispatch::call(GetParam(), c.inputs, c.attrs);
        } catch (const Error& e) {
          // The kernel's supports() declined the case (a not_found from selection); any other
          // error is the kernel failing on a case its reference handles.
          EXPECT_EQ(e.kind(), ErrorKind::not_found)
              << k->key() << " case " << c.name << ": " << e.what();
          continue;
        }
        for (size_t o = 0; o < expected.size(); ++o) {
          auto message = testing::compare(actual[o], expected[o], testing::tolerance_for(dtype));
          EXPECT_TRUE(message.empty())
              << k->key() << " case " << c.name << " output " << o << ": " << message;
        }
      }
      registry.clear_override(GetParam(), DeviceType::cpu);
    }
  }
}

std::vector<std::string> all_ops() {
  return Registry::instance().op_names();
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpCases, ::testing::ValuesIn(all_ops()),
                         [](const auto& info) { return info.param; });

TEST(Registry, EveryOpHasReferenceAndCases) {
  auto problems = Registry::instance().problems();
  for (const auto& p : problems) ADD_FAILURE() << p;
}

}  // namespace
}  // namespace osprey
