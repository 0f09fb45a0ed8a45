#include <gtest/gtest.h>

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/autograd/gradcheck.h"
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/elementwise/elementwise.h"

namespace osprey {
namespace {

Tensor total(const Tensor& t) {
  return dispatch::call1("sum_to", {t}, {{"shape", Shape{}}});
}

Tensor leaf(std::vector<double> values, Shape shape) {
  Tensor t = Tensor::from_vector<double>(values, shape);
  t.set_requires_grad();
  return t;
}

TEST(Autograd, ChainAndSharedInputsAccumulate) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = total(x * x + x * 3.0);  // dy/dx = 2x + 3
  EXPECT_FALSE(y.is_leaf());
  y.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 7, 9}));
}

TEST(Autograd, BroadcastGradientsSumBack) {
  Tensor a = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = leaf({10, 20, 30}, {3});
  total(a * b).backward();
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{10, 20, 30, 10, 20, 30}));
}

TEST(Autograd, SecondBackwardNeedsRetainGraph) {
  Tensor x = leaf({2}, {1});
  Tensor y = total(x * x);
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().item<double>(), 8.0);  // 4 + 4: accumulated
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::autograd);
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
  }
}

TEST(Autograd, InPlaceChangeOfSavedTensorIsRefused) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = total(x * x);  // mul saves x
  {
    autograd::NoGradGuard no_grad;
    ops::affine_(x, 2.0);
  }
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::autograd);
    EXPECT_NE(std::string(e.what()).find("modified in place"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'mul'"), std::string::npos) << e.what();
  }
}

TEST(Autograd, InPlaceOnTensorRequiringGradIsRefused) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_THROW(ops::affine_(x, 2.0), Error);
  Tensor y = x * 2.0;
  EXPECT_THROW(ops::add_(y, y), Error);
}

TEST(Autograd, DetachAndNoGrad) {
  Tensor x = leaf({1, 2}, {2});
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage().get(), x.storage().get());
  {
    autograd::NoGradGuard no_grad;
    Tensor y = x * x;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  Tensor z = total(x * d);  // d is a constant
  z.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 2}));
}

TEST(Autograd, GradientHooksOnLeavesAndIntermediates) {
  Tensor x = leaf({1, 2}, {2});
  x.register_hook([](const Tensor& g) { return g * 10.0; });
  Tensor h = x * 2.0;
  int seen = 0;
  h.register_hook([&](const Tensor& g) {
    ++seen;
    EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{1, 1}));
    return Tensor();  // observe only
  });
  h.retain_grad();
  total(h).backward();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(h.grad().to_vector<double>(), (std::vector<double>{1, 1}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{20, 20}));
}

TEST(Autograd, GradFunctionDoesNotTouchDotGrad) {
  Tensor x = leaf({3}, {1});
  Tensor y = total(x * x * x);
  auto g = autograd::grad({y}, {Tensor()}, {x});
  EXPECT_DOUBLE_EQ(g[0].item<double>(), 27.0);
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, ViewsCarryGradients) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = x.transpose(0, 1).slice(0, 1, 3).reshape({4});  // x[:, 1:3] in column order
  total(y * Tensor::from_vector<double>({1, 2, 3, 4}, {4})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 3, 0, 2, 4}));
}

TEST(Autograd, NonScalarBackwardNeedsGradient) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_THROW((x * 2.0).backward(), Error);
  (x * 2.0).backward(Tensor::from_vector<double>({1, 3}, {2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 6}));
}

TEST(Autograd, OnlyFloatingTensorsRequireGrad) {
  Tensor i = Tensor::from_vector<int64_t>({1, 2}, {2});
  EXPECT_THROW(i.set_requires_grad(), Error);
}

TEST(Autograd, ForwardHooksSeeEveryOp) {
  std::vector<std::string> seen;
  int id = dispatch::add_forward_hook(
      [&](const dispatch::OpDef& op, const std::vector<Tensor>&, const std::vector<Tensor>& out) {
        seen.push_back(op.schema.name + ":" + shape_str(out[0].shape()));
      });
  Tensor x = Tensor::from_vector<float>({1, 2}, {2});
  (void)(x * x + x);
  dispatch::remove_forward_hook(id);
  (void)(x * x);
  EXPECT_EQ(seen, (std::vector<std::string>{"mul:[2]", "add:[2]"}));
}

// --- the gradient check itself must catch wrong gradients and unwritten outputs ---

const bool test_ops_registered = [] {
  using namespace ops;
  OpDef bad;
  bad.schema = {"test_wrong_square", {{"input"}}, {}, {{"output"}}, "x*x with a wrong gradient"};
  bad.backward = [](const BackwardContext& ctx) {
    return std::vector<Tensor>{ctx.grad_output() * ctx.input(0) * 3.0};  // should be 2x
  };
  bad.cases = [](DType, uint64_t) { return std::vector<OpCase>{}; };
  dispatch::Registry::instance().add_op(std::move(bad));
  register_kernel("test_wrong_square", DeviceType::cpu, "reference", 0, [](KernelContext& ctx) {
    Tensor x = ctx.input(0);
    ctx.output(0, x.shape(), x.dtype()).copy_(x * x);
  });

  OpDef lazy;
  lazy.schema = {"test_half_written", {{"input"}}, {}, {{"output"}}, "writes only element 0"};
  lazy.backward = [](const BackwardContext& ctx) { return std::vector<Tensor>{ctx.grad_output()}; };
  lazy.cases = [](DType, uint64_t) { return std::vector<OpCase>{}; };
  dispatch::Registry::instance().add_op(std::move(lazy));
  register_kernel("test_half_written", DeviceType::cpu, "reference", 0, [](KernelContext& ctx) {
    Tensor x = ctx.input(0);
    Tensor& out = ctx.output(0, x.shape(), x.dtype());
    out.data<double>()[0] = x.data<double>()[0];
  });
  return true;
}();

TEST(Gradcheck, PassesACorrectFunction) {
  auto r = autograd::gradcheck(
      "x*y+x",
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * in[1] + in[0]}; },
      {Tensor::from_vector<double>({0.5, -1.5, 2}, {3}),
       Tensor::from_vector<double>({1, 2, 3}, {3})});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_GT(r.checks, 0);
}

TEST(Gradcheck, CatchesAWrongGradient) {
  dispatch::OpCase c{"three", {Tensor::from_vector<double>({0.5, -1.5, 2}, {3})}, {}};
  auto r = autograd::gradcheck_op("test_wrong_square", c);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("test_wrong_square"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("flat index 0"), std::string::npos) << r.message;
}

TEST(Gradcheck, CatchesUnwrittenOutputs) {
  dispatch::OpCase c{"three", {Tensor::from_vector<double>({0.5, -1.5, 2}, {3})}, {}};
  auto r = autograd::gradcheck_op("test_half_written", c);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("NaN"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace osprey
