// Layout and precision parity for every registered op over its case list: the f32 reference agrees
// with the f64 reference (within f32 tolerance), and non-contiguous copies of the inputs give the
// same outputs as contiguous ones.
#include <gtest/gtest.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Registry;

class OpParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OpParity, FloatReferenceMatchesDouble) {
  const auto& def = Registry::instance().op(GetParam());
  autograd::NoGradGuard no_grad;
  for (const auto& c : def.cases(DType::f32, 3)) {
    std::vector<Tensor> doubled;
    for (const auto& t : c.inputs) {
      doubled.push_back(t.defined() && t.dtype() == DType::f32 ? t.to(DType::f64) : t);
    }
    std::vector<Tensor> in_f32 = dispatch::call(GetParam(), c.inputs, c.attrs);
    std::vector<Tensor> in_f64 = dispatch::call(GetParam(), doubled, c.attrs);
    for (size_t o = 0; o < in_f32.size(); ++o) {
      Tensor expected =
          is_floating(in_f64[o].dtype()) ? in_f64[o].to(in_f32[o].dtype()) : in_f64[o];
      auto message = testing::compare(in_f32[o], expected, {1e-4, 1e-3});
      EXPECT_TRUE(message.empty())
          << GetParam() << " case " << c.name << " output " << o << ": " << message;
    }
  }
}

TEST_P(OpParity, NonContiguousInputsMatchContiguous) {
  if (GetParam() == "view") GTEST_SKIP() << "view refuses incompatible strides by definition";
  const auto& def = Registry::instance().op(GetParam());
  autograd::NoGradGuard no_grad;
  for (const auto& c : def.cases(DType::f64, 5)) {
    std::vector<Tensor> strided;
    bool changed = false;
    for (const auto& t : c.inputs) {
      if (t.defined() && t.dim() >= 1 && t.numel() > 1 && t.is_contiguous()) {
        strided.push_back(ops::non_contiguous(t));
        changed = true;
      } else {
        strided.push_back(t);
      }
    }
    if (!changed) continue;
    std::vector<Tensor> expected = dispatch::call(GetParam(), c.inputs, c.attrs);
    std::vector<Tensor> actual = dispatch::call(GetParam(), strided, c.attrs);
    for (size_t o = 0; o < expected.size(); ++o) {
      auto message = testing::compare(actual[o], expected[o], testing::tolerance_for(DType::f64));
      EXPECT_TRUE(message.empty())
          << GetParam() << " case " << c.name << " output " << o << ": " << message;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpParity, ::testing::ValuesIn(Registry::instance().op_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace osprey
