#include <gtest/gtest.h>

#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"

namespace osprey {
namespace {

using dispatch::Registry;

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A second CPU kernel for `add` that only takes f32: priority decides, supports() filters.
const bool fast_add_registered = [] {
  ops::register_kernel(
      "add", DeviceType::cpu, "test_f32_only", 100,
      [](ops::KernelContext& ctx) {
        const Tensor& a = ctx.input(0);
        Tensor& out = ctx.output(0, a.shape(), a.dtype());
        for (int64_t i = 0; i < a.numel(); ++i) {
          out.data<float>()[i] = a.data<float>()[i] + ctx.input(1).data<float>()[i];
        }
      },
      [](const ops::KernelContext& ctx) {
        return ctx.input(0).dtype() == DType::f32 && ctx.input(0).shape() == ctx.input(1).shape() &&
               ctx.input(0).is_contiguous() && ctx.input(1).is_contiguous();
      });
  return true;
}();

TEST(Dispatch, PriorityAndSupportsChooseTheKernel) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {2});
  EXPECT_EQ((a + a).to_vector<float>(), (std::vector<float>{2, 4}));
  EXPECT_EQ(dispatch::last_kernel_key(), "add/cpu/test_f32_only");
  Tensor d = a.to(DType::f64);
  (void)(d + d);
  EXPECT_EQ(dispatch::last_kernel_key(), "add/cpu/reference");
}

TEST(Dispatch, OverridesByNameAndEnvironmentSyntax) {
  auto& r = Registry::instance();
  Tensor a = Tensor::from_vector<float>({1, 2}, {2});
  r.apply_overrides("add:cpu=reference");
  (void)(a + a);
  EXPECT_EQ(dispatch::last_kernel_key(), "add/cpu/reference");
  r.clear_override("add", DeviceType::cpu);
  (void)(a + a);
  EXPECT_EQ(dispatch::last_kernel_key(), "add/cpu/test_f32_only");

  std::string unknown_impl = message_of([&] { r.set_override("add", DeviceType::cpu, "nope"); });
  EXPECT_NE(unknown_impl.find("add/cpu/reference"), std::string::npos) << unknown_impl;
  std::string unknown_op = message_of([&] { r.apply_overrides("nosuchop:cpu=reference"); });
  EXPECT_NE(unknown_op.find("unknown op 'nosuchop'"), std::string::npos) << unknown_op;
  EXPECT_NE(unknown_op.find("add"), std::string::npos) << unknown_op;
  EXPECT_THROW(r.apply_overrides("add=reference"), Error);

  // An override naming a kernel that does not support the call is an error, not a fallback.
  r.set_override("add", DeviceType::cpu, "test_f32_only");
  Tensor d = a.to(DType::f64);
  std::string unsupported = message_of([&] { (void)(d + d); });
  EXPECT_NE(unsupported.find("does not support"), std::string::npos) << unsupported;
  r.clear_override("add", DeviceType::cpu);
}

TEST(Dispatch, SchemaErrorsNameOpAndArgument) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {2});
  std::string bad_attr = message_of([&] { dispatch::call("add", {a, a}, {{"beta", 2.0}}); });
  EXPECT_NE(bad_attr.find("op 'add' has no attribute 'beta' (attributes: alpha)"),
            std::string::npos)
      << bad_attr;
  std::string missing = message_of([&] { dispatch::call("add", {a}); });
  EXPECT_NE(missing.find("input 'other' is required"), std::string::npos) << missing;
  std::string too_many = message_of([&] { dispatch::call("add", {a, a, a}); });
  EXPECT_NE(too_many.find("takes 2 inputs"), std::string::npos) << too_many;
  std::string wrong_type = message_of([&] {
    dispatch::call("add", {a, a}, {{"alpha", std::string("x")}});
  });
  EXPECT_NE(wrong_type.find("attribute 'alpha' expects float"), std::string::npos) << wrong_type;
  std::string dtype_mix = message_of([&] {
    dispatch::call("add", {a, Tensor::from_vector<double>({1, 2}, {2})});
  });
  EXPECT_NE(dtype_mix.find("input 'other' is f64 but 'input' is f32"), std::string::npos)
      << dtype_mix;
}

TEST(Dispatch, AttributesParseFromText) {
  using dispatch::AttrType;
  EXPECT_EQ(
      std::get<std::vector<int64_t>>(dispatch::parse_attr_value("k", AttrType::integers, "7,7")),
      (std::vector<int64_t>{7, 7}));
  EXPECT_EQ(std::get<bool>(dispatch::parse_attr_value("k", AttrType::boolean, "true")), true);
  EXPECT_EQ(std::get<double>(dispatch::parse_attr_value("k", AttrType::real, "0.5")), 0.5);
  EXPECT_EQ(std::get<DType>(dispatch::parse_attr_value("k", AttrType::dtype, "bf16")), DType::bf16);
  EXPECT_THROW(dispatch::parse_attr_value("stride", AttrType::integer, "2x"), Error);
}

TEST(Dispatch, OutVariantsWriteInPlaceAndBumpVersions) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {2});
  Tensor b = Tensor::from_vector<float>({10, 20}, {2});
  uint64_t v = a.version();
  ops::add_(a, b);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{11, 22}));
  EXPECT_EQ(a.version(), v + 1);
  Tensor wrong = Tensor::from_vector<float>({0, 0, 0}, {3});
  std::string msg = message_of([&] { dispatch::call_out("add", wrong, {a, b}); });
  EXPECT_NE(msg.find("given as f32[3] cpu"), std::string::npos) << msg;
}

}  // namespace
}  // namespace osprey
