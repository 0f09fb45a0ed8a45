// The fast batch_norm kernels, the fused relu of batch_norm, add_relu and the dense element-wise
// kernels: values against the strided reference kernels on ResNet-20-like shapes in both layouts,
// thread-count independence, the layouts of the outputs, and the fused ops' gradients against the
// unfused compositions.
#include <gtest/gtest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "framework/dispatch/registry.h"
#include "ops/activation/activation.h"
#include "ops/add_relu/add_relu.h"
#include "ops/batch_norm/batch_norm.h"
#include "ops/elementwise/elementwise.h"
#include "ops/factory/factory.h"
#include "ops/random/random.h"
#include "ops/reduce/reduce.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Registry;

// Forces `impl` for `op` on the CPU while alive.
struct Forced {
  const char* op;
  Forced(const char* op, const char* impl) : op(op) {
    Registry::instance().set_override(op, DeviceType::cpu, impl);
  }
  ~Forced() { Registry::instance().clear_override(op, DeviceType::cpu); }
};

Tensor image(const Shape& s, double mean, uint64_t seed, MemoryFormat f, DType d = DType::f32) {
  random::Generator gen(seed);
  return ops::normal(s, mean, 2.0, gen, d).contiguous(f);
}

void expect_close(const Tensor& actual, const Tensor& expected, double tol) {
  EXPECT_EQ(testing::compare(actual, expected, {tol, tol}), "");
}

class FastBatchNorm : public ::testing::TestWithParam<MemoryFormat> {};

// Inputs far from zero mean (100) exercise the shifted one-pass variance.
TEST_P(FastBatchNorm, MatchesReferenceForwardAndBackward) {
  const MemoryFormat f = GetParam();
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "relu" : "plain");
    Tensor x = image({8, 16, 14, 14}, 100.0, 1, f);
    Tensor w = ops::uniform({16}, 0.5, 1.5);
    Tensor b = ops::uniform({16}, -0.5, 0.5);
    Tensor rm_fast = ops::zeros({16}, DType::f32), rv_fast = ops::ones({16}, DType::f32);
    Tensor rm_ref = rm_fast.clone(), rv_ref = rv_fast.clone();
    ops::BatchNormResult fast, ref;
    {
      Forced k("batch_norm", "fast");
      fast = ops::batch_norm(x, w, b, rm_fast, rv_fast, true, 0.1, 1e-5, relu);
      EXPECT_EQ(dispatch::last_kernel_key(), "batch_norm/cpu/fast");
    }
    {
      Forced k("batch_norm", "reference");
      ref = ops::batch_norm(x, w, b, rm_ref, rv_ref, true, 0.1, 1e-5, relu);
    }
    EXPECT_TRUE(fast.output.is_contiguous(f));
    expect_close(fast.output, ref.output, 1e-4);
    expect_close(fast.save_mean, ref.save_mean, 1e-5);
    expect_close(fast.save_invstd, ref.save_invstd, 1e-5);
    expect_close(rm_fast, rm_ref, 1e-5);
    expect_close(rv_fast, rv_ref, 1e-5);

    Tensor g = image({8, 16, 14, 14}, 0.0, 2, f);
    std::tuple<Tensor, Tensor, Tensor> gf, gr;
    {
      Forced k("batch_norm_backward", "fast");
      gf = ops::batch_norm_backward(g, x, w, fast.save_mean, fast.save_invstd, true);
    }
    {
      Forced k("batch_norm_backward", "reference");
      gr = ops::batch_norm_backward(g, x, w, fast.save_mean, fast.save_invstd, true);
    }
    expect_close(std::get<0>(gf), std::get<0>(gr), 1e-4);
    expect_close(std::get<1>(gf), std::get<1>(gr), 1e-3);
    expect_close(std::get<2>(gf), std::get<2>(gr), 1e-3);
  }
}

// Every sum is taken in a fixed order: one thread and two give the same bits.
TEST_P(FastBatchNorm, IndependentOfThreadCount) {
#ifdef _OPENMP
  const MemoryFormat f = GetParam();
  Tensor x = image({16, 32, 14, 14}, 1.0, 3, f);
  Tensor g = image({16, 32, 14, 14}, 0.0, 4, f);
  Forced k1("batch_norm", "fast");
  Forced k2("batch_norm_backward", "fast");
  auto run = [&](int threads) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    auto r = ops::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
    auto gr = ops::batch_norm_backward(g, x, Tensor(), r.save_mean, r.save_invstd, true);
    omp_set_num_threads(before);
    return std::vector<Tensor>{r.output, r.save_mean, r.save_invstd, std::get<0>(gr),
                               std::get<1>(gr)};
  };
  auto one = run(1), two = run(2);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].to_vector<float>(), two[i].to_vector<float>()) << "output " << i;
  }
#else
  GTEST_SKIP() << "built without OpenMP";
#endif
}

INSTANTIATE_TEST_SUITE_P(Layouts, FastBatchNorm,
                         ::testing::Values(MemoryFormat::contiguous, MemoryFormat::channels_last));

TEST(BatchNormRelu, OutputIsReluOfBatchNorm) {
  Tensor x = image({4, 3, 5, 5}, 0.0, 5, MemoryFormat::contiguous, DType::f64);
  Tensor w = Tensor::from_vector<double>({1.0, -2.0, 0.5}, {3});
  Tensor b = Tensor::from_vector<double>({0.1, 0.0, -0.3}, {3});
  auto plain = ops::batch_norm(x, w, b, Tensor(), Tensor(), true);
  auto fused = ops::batch_norm(x, w, b, Tensor(), Tensor(), true, 0.1, 1e-5, true);
  expect_close(fused.output, ops::relu(plain.output), 1e-12);
  expect_close(fused.save_mean, plain.save_mean, 0);
  expect_close(fused.save_invstd, plain.save_invstd, 0);
}

// The fused op's gradients equal those of batch_norm followed by relu.
TEST(BatchNormRelu, GradientsMatchUnfused) {
  for (MemoryFormat f : {MemoryFormat::contiguous, MemoryFormat::channels_last}) {
    Tensor x = image({4, 3, 4, 4}, 0.5, 6, f, DType::f64);
    Tensor up = image({4, 3, 4, 4}, 0.0, 7, f, DType::f64);
    auto grads = [&](bool fused) {
      Tensor xi = x.detach().set_requires_grad(true);
      Tensor w = Tensor::from_vector<double>({1.0, 0.7, 1.3}, {3}).set_requires_grad(true);
      Tensor b = Tensor::from_vector<double>({0.2, -0.1, 0.0}, {3}).set_requires_grad(true);
      Tensor y = fused ? ops::batch_norm(xi, w, b, Tensor(), Tensor(), true, 0.1, 1e-5, true).output
                       : ops::relu(ops::batch_norm(xi, w, b, Tensor(), Tensor(), true).output);
      ops::sum(ops::mul(y, up)).backward();
      return std::vector<Tensor>{xi.grad(), w.grad(), b.grad()};
    };
    auto fused = grads(true), unfused = grads(false);
    for (size_t i = 0; i < fused.size(); ++i) expect_close(fused[i], unfused[i], 1e-10);
  }
}

TEST(AddRelu, KnownValuesAndGradient) {
  Tensor a = Tensor::from_vector<double>({1.0, -2.0, 0.5, -0.5}, {4}).set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({0.5, 1.0, -1.0, 0.5}, {4}).set_requires_grad(true);
  Tensor y = ops::add_relu(a, b);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1.5, 0.0, 0.0, 0.0}));
  ops::sum(ops::mul(y, Tensor::from_vector<double>({2, 3, 4, 5}, {4}))).backward();
  // Only the first sum is positive; a sum of exactly 0 passes no gradient (relu's convention).
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{2, 0, 0, 0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{2, 0, 0, 0}));
}

TEST(AddRelu, BroadcastGradientSumsDown) {
  Tensor a = Tensor::from_vector<double>({1, 2, -3, 4, 5, -6}, {2, 3}).set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({1, -10, 2}, {3}).set_requires_grad(true);
  ops::sum(ops::add_relu(a, b)).backward();
  // sums: [2, -8, -1; 5, -5, -4] -> only column 0 passes, in both rows.
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{2, 0, 0}));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 0, 0, 1, 0, 0}));
}

TEST(AddRelu, RejectsMismatchedShapes) {
  Tensor a = ops::zeros({2, 3}, DType::f32), b = ops::zeros({4}, DType::f32);
  EXPECT_THROW(ops::add_relu(a, b), Error);
}

// Channels-last operands stay channels-last through the dense kernels, with the reference's
// values.
TEST(DenseKernels, ChannelsLastInChannelsLastOut) {
  const MemoryFormat cl = MemoryFormat::channels_last;
  Tensor x = image({4, 8, 7, 7}, 0.0, 8, cl), y = image({4, 8, 7, 7}, 0.0, 9, cl);
  struct Case {
    const char* op;
    std::function<Tensor()> run;
  };
  std::vector<Case> cases = {
      {"relu", [&] { return ops::relu(x); }},
      {"add", [&] { return ops::add(x, y); }},
      {"threshold_backward", [&] { return ops::threshold_backward(y, x, 0.0); }},
      {"add_relu", [&] { return ops::add_relu(x, y); }},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.op);
    Tensor dense, ref;
    {
      Forced k(c.op, "dense");
      dense = c.run();
    }
    {
      Forced k(c.op, "reference");
      ref = c.run();
    }
    EXPECT_TRUE(dense.is_contiguous(cl));
    expect_close(dense, ref, 0);
  }
}

}  // namespace
}  // namespace osprey
