// Value and error tests of matmul, bmm and linear (the generic case tests cover gradients and
// kernel parity).
#include <gtest/gtest.h>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/matmul/matmul.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Registry;

Tensor f32(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, shape);
}

// Runs `fn` once per CPU kernel of `op`, forcing it; `fn` gets the expected kernel key.
template <typename Fn>
void for_each_cpu_kernel(const char* op, Fn fn) {
  for (const auto* k : Registry::instance().kernels(op, DeviceType::cpu)) {
    SCOPED_TRACE(k->key());
    Registry::instance().set_override(op, DeviceType::cpu, k->impl);
    fn(k->key());
    Registry::instance().clear_override(op, DeviceType::cpu);
  }
}

TEST(Matmul, KnownProduct) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({7, 8, 9, 10, 11, 12}, {3, 2});
  for_each_cpu_kernel("matmul", [&](const std::string& key) {
    Tensor c = ops::matmul(a, b);
    EXPECT_EQ(dispatch::last_kernel_key(), key);
    EXPECT_EQ(c.shape(), (Shape{2, 2}));
    EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
    // Transposed operands (BLAS trans flags) give the transposed product.
    Tensor bt = b.transpose(0, 1), at = a.transpose(0, 1);
    Tensor ct = ops::matmul(bt, at);
    EXPECT_EQ(dispatch::last_kernel_key(), key);
    EXPECT_EQ(ct.to_vector<float>(), (std::vector<float>{58, 139, 64, 154}));
  });
}

TEST(Matmul, WritesIntoStridedOut) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({7, 8, 9, 10, 11, 12}, {3, 2});
  for_each_cpu_kernel("matmul", [&](const std::string&) {
    Tensor out = Tensor::empty({2, 2}).transpose(0, 1);
    dispatch::call_out("matmul", out, {a, b});
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
  });
}

TEST(Matmul, VectorOperands) {
  Tensor m = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor v = f32({1, 0, -1}, {3});
  Tensor w = f32({1, 1}, {2});
  for_each_cpu_kernel("matmul", [&](const std::string&) {
    Tensor mv = ops::matmul(m, v);
    EXPECT_EQ(mv.shape(), (Shape{2}));
    EXPECT_EQ(mv.to_vector<float>(), (std::vector<float>{-2, -2}));
    Tensor vm = ops::matmul(w, m);
    EXPECT_EQ(vm.shape(), (Shape{3}));
    EXPECT_EQ(vm.to_vector<float>(), (std::vector<float>{5, 7, 9}));
    Tensor dot = ops::matmul(v, v);
    EXPECT_EQ(dot.shape(), (Shape{}));
    EXPECT_EQ(dot.item<float>(), 2.0f);
  });
}

TEST(Matmul, BatchedBroadcasting) {
  // a: [2, 1, 2, 2], b: [3, 2, 2] -> [2, 3, 2, 2]; entry (i, j) is a[i] @ b[j].
  std::vector<float> av(8), bv(12);
  for (int i = 0; i < 8; ++i) av[i] = static_cast<float>(i + 1);
  for (int i = 0; i < 12; ++i) bv[i] = static_cast<float>(i % 5) - 2.0f;
  Tensor a = f32(av, {2, 1, 2, 2});
  Tensor b = f32(bv, {3, 2, 2});
  for_each_cpu_kernel("matmul", [&](const std::string&) {
    Tensor c = ops::matmul(a, b);
    ASSERT_EQ(c.shape(), (Shape{2, 3, 2, 2}));
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t j = 0; j < 3; ++j) {
        Tensor expected = ops::matmul(a.select(0, i).squeeze(0), b.select(0, j));
        EXPECT_EQ(c.select(0, i).select(0, j).to_vector<float>(), expected.to_vector<float>());
      }
    }
  });
}

TEST(Matmul, EmptyContractionGivesZeros) {
  for_each_cpu_kernel("matmul", [&](const std::string&) {
    Tensor c = ops::matmul(Tensor::empty({2, 0}), Tensor::empty({0, 3}));
    EXPECT_EQ(c.shape(), (Shape{2, 3}));
    EXPECT_EQ(c.to_vector<float>(), std::vector<float>(6, 0.0f));
    EXPECT_EQ(ops::matmul(Tensor::empty({0, 4}), Tensor::empty({4, 3})).shape(), (Shape{0, 3}));
  });
}

TEST(Matmul, PromotesMixedDtypes) {
  Tensor a = f32({1, 2}, {1, 2});
  Tensor b = Tensor::from_vector<double>({3, 4}, {2, 1});
  Tensor c = ops::matmul(a, b);
  EXPECT_EQ(c.dtype(), DType::f64);
  EXPECT_EQ(c.item<double>(), 11.0);
}

TEST(Matmul, ShapeMismatchNamesOpAndShapes) {
  try {
    ops::matmul(Tensor::empty({2, 3}), Tensor::empty({4, 5}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::shape);
    std::string what = e.what();
    EXPECT_NE(what.find("matmul"), std::string::npos) << what;
    EXPECT_NE(what.find("[2, 3]"), std::string::npos) << what;
    EXPECT_NE(what.find("[4, 5]"), std::string::npos) << what;
  }
  EXPECT_THROW(ops::matmul(Tensor::empty({2, 2, 3}), Tensor::empty({3, 3, 4})), Error);
  EXPECT_THROW(ops::matmul(Tensor::empty({}), Tensor::empty({3})), Error);
  EXPECT_THROW(ops::matmul(Tensor::from_vector<int64_t>({1}, {1, 1}),
                           Tensor::from_vector<int64_t>({1}, {1, 1})),
               Error);
}

TEST(Matmul, Gradients) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad();
  Tensor b = f32({1, 0, 0, 1, 1, 1}, {3, 2}).set_requires_grad();
  ops::matmul(a, b).backward(Tensor::from_vector<float>({1, 1, 1, 1}, {2, 2}));
  // d/da = g @ b^T: each row is the row sums of b; d/db = a^T @ g: column sums of a.
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{1, 1, 2, 1, 1, 2}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{5, 5, 7, 7, 9, 9}));
}

TEST(Bmm, KnownProductAndErrors) {
  Tensor a = f32({1, 2, 3, 4, 1, 0, 0, 1}, {2, 2, 2});
  Tensor b = f32({1, 1, 1, 1, 5, 6, 7, 8}, {2, 2, 2});
  for_each_cpu_kernel("bmm", [&](const std::string&) {
    Tensor c = ops::bmm(a, b);
    EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{3, 3, 7, 7, 5, 6, 7, 8}));
  });
  try {
    ops::bmm(Tensor::empty({2, 2, 3}), Tensor::empty({3, 3, 2}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("bmm"), std::string::npos) << what;
    EXPECT_NE(what.find("[3, 3, 2]"), std::string::npos) << what;
  }
  EXPECT_THROW(ops::bmm(Tensor::empty({2, 3}), Tensor::empty({3, 2})), Error);
}

TEST(Linear, WithAndWithoutBias) {
  Tensor x = f32({1, 2, 3, 4}, {2, 2});
  Tensor w = f32({1, 0, 0, 1, 1, 1}, {3, 2});  // [out = 3, in = 2]
  Tensor bias = f32({10, 20, 30}, {3});
  for_each_cpu_kernel("linear", [&](const std::string& key) {
    EXPECT_EQ(ops::linear(x, w).to_vector<float>(), (std::vector<float>{1, 2, 3, 3, 4, 7}));
    Tensor y = ops::linear(x, w, bias);
    EXPECT_EQ(dispatch::last_kernel_key(), key);
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{11, 22, 33, 13, 24, 37}));
    Tensor batched = ops::linear(x.view({2, 1, 2}), w, bias);
    EXPECT_EQ(batched.shape(), (Shape{2, 1, 3}));
    Tensor vec = ops::linear(f32({1, 2}, {2}), w, bias);
    EXPECT_EQ(vec.shape(), (Shape{3}));
    EXPECT_EQ(vec.to_vector<float>(), (std::vector<float>{11, 22, 33}));
  });
}

TEST(Linear, Errors) {
  Tensor w = Tensor::empty({3, 2});
  try {
    ops::linear(Tensor::empty({4, 5}), w);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("linear"), std::string::npos) << what;
    EXPECT_NE(what.find("[4, 5]"), std::string::npos) << what;
    EXPECT_NE(what.find("[3, 2]"), std::string::npos) << what;
  }
  EXPECT_THROW(ops::linear(Tensor::empty({4, 2}), w, Tensor::empty({2})), Error);
  EXPECT_THROW(ops::linear(Tensor::empty({4, 2}), Tensor::empty({2})), Error);
}

// The BLAS kernels must accept every case of the case lists (the generic parity test skips a
// kernel that throws, so check here that none does).
TEST(Matmul, OpenblasRunsEveryCase) {
  auto& registry = Registry::instance();
  for (const char* op : {"matmul", "bmm", "linear"}) {
    for (const auto& c : registry.op(op).cases(DType::f32, 3)) {
      registry.set_override(op, DeviceType::cpu, "openblas");
      EXPECT_NO_THROW(dispatch::call(op, c.inputs, c.attrs)) << op << " case " << c.name;
      registry.clear_override(op, DeviceType::cpu);
    }
  }
}

}  // namespace
}  // namespace osprey
