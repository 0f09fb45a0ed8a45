// Value tests of uniform, normal, bernoulli and randperm: statistics, determinism for a given
// (seed, offset), disjoint streams for different offsets, the Generator contract, and CPU-CUDA
// agreement when a GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framework/dispatch/registry.h"
#include "framework/random/philox.h"
#include "ops/random/random.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

struct Moments {
  double mean;
  double std;
};
Moments moments(const Tensor& t) {
  auto v = t.to_vector<double>();
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, std::sqrt(var / v.size())};
}

TEST(Random, NormalMoments) {
  random::Generator g(1234);
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor t = ops::normal({100000}, 0.0, 1.0, g, dtype);
    EXPECT_EQ(t.dtype(), dtype);
    Moments m = moments(t);
    // The standard error of the mean of 1e5 standard normals is ~0.003.
    EXPECT_NEAR(m.mean, 0.0, 0.015);
    EXPECT_NEAR(m.std, 1.0, 0.015);
    auto v = t.to_vector<double>();
    double within_one = std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x) < 1; });
    EXPECT_NEAR(within_one / v.size(), 0.6827, 0.01);
  }
  Moments shifted = moments(ops::normal({100000}, 3.0, 0.5, g));
  EXPECT_NEAR(shifted.mean, 3.0, 0.01);
  EXPECT_NEAR(shifted.std, 0.5, 0.01);
}

TEST(Random, UniformRangeAndMoments) {
  random::Generator g(5);
  Tensor t = ops::uniform({100000}, -2.0, 3.0, g, DType::f64);
  auto v = t.to_vector<double>();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 3.0);
  Moments m = moments(t);
  EXPECT_NEAR(m.mean, 0.5, 0.03);
  EXPECT_NEAR(m.std, 5.0 / std::sqrt(12.0), 0.02);
}

TEST(Random, UniformFollowsPhiloxConvention) {
  Tensor t = dispatch::call1("uniform", {},
                             {{"shape", std::vector<int64_t>{6}},
                              {"seed", int64_t{77}},
                              {"offset", int64_t{3}},
                              {"dtype", DType::f64}});
  auto v = t.to_vector<double>();
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(v[i], random::uint32_to_unit_double(random::philox_uint32(77, 3, i))) << i;
  }
}

TEST(Random, DeterministicForSeedAndOffset) {
  random::Generator a(99), b(99);
  EXPECT_EQ(ops::normal({37}, 0, 1, a).to_vector<float>(),
            ops::normal({37}, 0, 1, b).to_vector<float>());
  EXPECT_EQ(a.offset(), 10u);  // ceil(37 / 4) blocks
  EXPECT_EQ(ops::uniform({5}, 0, 1, a).to_vector<float>(),
            ops::uniform({5}, 0, 1, b).to_vector<float>());
  Tensor p = Tensor::from_vector<float>({0.1f, 0.5f, 0.9f, 0.3f, 0.7f}, {5});
  EXPECT_EQ(ops::bernoulli(p, a).to_vector<float>(), ops::bernoulli(p, b).to_vector<float>());
  EXPECT_EQ(ops::randperm(50, a).to_vector<int64_t>(), ops::randperm(50, b).to_vector<int64_t>());
  // Restoring a saved state replays the draw.
  random::GeneratorState saved = a.state();
  Tensor first = ops::uniform({9}, 0, 1, a);
  a.set_state(saved);
  EXPECT_EQ(ops::uniform({9}, 0, 1, a).to_vector<float>(), first.to_vector<float>());
}

TEST(Random, ConsecutiveDrawsAndSeedsDiffer) {
  random::Generator g(8);
  auto first = ops::uniform({16}, 0, 1, g).to_vector<float>();
  auto second = ops::uniform({16}, 0, 1, g).to_vector<float>();
  EXPECT_NE(first, second);
  random::Generator other(9);
  EXPECT_NE(ops::uniform({16}, 0, 1, other).to_vector<float>(), first);
  auto at = [](int64_t offset) {
    return dispatch::call1(
               "normal", {},
               {{"shape", std::vector<int64_t>{8}}, {"seed", int64_t{1}}, {"offset", offset}})
        .to_vector<float>();
  };
  EXPECT_NE(at(0), at(1));
  // Offsets count blocks of four: offset 1 continues the stream of offset 0 at element 4.
  auto zero = at(0), one = at(1);
  EXPECT_TRUE(std::equal(one.begin(), one.begin() + 4, zero.begin() + 4));
}

TEST(Random, BernoulliFrequencies) {
  random::Generator g(3);
  Tensor p = Tensor::empty({4, 25000}, DType::f64);
  std::vector<double> probs = {0.0, 0.25, 0.8, 1.0};
  for (int r = 0; r < 4; ++r) p.select(0, r).fill_(probs[r]);
  Tensor draws = ops::bernoulli(p, g);
  EXPECT_EQ(draws.dtype(), DType::f64);
  EXPECT_EQ(draws.shape(), p.shape());
  for (int r = 0; r < 4; ++r) {
    auto row = draws.select(0, r).to_vector<double>();
    for (double x : row) ASSERT_TRUE(x == 0.0 || x == 1.0);
    double rate = std::accumulate(row.begin(), row.end(), 0.0) / row.size();
    EXPECT_NEAR(rate, probs[r], 0.01) << "p = " << probs[r];
  }
  EXPECT_THROW(ops::bernoulli(Tensor::from_vector<int32_t>({1}, {1}), g), Error);
}

TEST(Random, RandpermIsPermutation) {
  random::Generator g(17);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    Tensor t = ops::randperm(n, g);
    EXPECT_EQ(t.dtype(), DType::i64);
    EXPECT_EQ(t.shape(), (Shape{n}));
    auto v = t.to_vector<int64_t>();
    std::sort(v.begin(), v.end());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(v[i], i);
  }
  auto a = ops::randperm(1000, g).to_vector<int64_t>();
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(a, identity);
  // Every position receives every value about equally often (a small chi-square-free check).
  std::vector<int> first_counts(4, 0);
  for (int trial = 0; trial < 4000; ++trial) ++first_counts[ops::randperm(4, g).at<int64_t>({0})];
  for (int c : first_counts) EXPECT_NEAR(c, 1000, 120);
}

TEST(Random, Errors) {
  random::Generator g;
  EXPECT_THROW(ops::uniform({2}, 1.0, 0.0, g), Error);
  EXPECT_THROW(ops::normal({2}, 0.0, -1.0, g), Error);
  EXPECT_THROW(ops::uniform({-1}, 0.0, 1.0, g), Error);
  EXPECT_THROW(ops::uniform({2}, 0.0, 1.0, g, DType::i32), Error);
  EXPECT_THROW(ops::randperm(-3, g), Error);
}

TEST(Random, HalfPrecisionOutputs) {
  random::Generator g(2);
  Tensor h = ops::uniform({100000}, 0, 1, g, DType::f16);
  EXPECT_EQ(h.dtype(), DType::f16);
  auto v = h.to_vector<double>();
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
}

TEST(RandomCuda, MatchesCpuStream) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::f32, DType::f64}) {
    random::Generator cpu(21), gpu(21);
    Tensor u_cpu = ops::uniform({1001}, -1, 2, cpu, dtype);
    Tensor u_gpu = ops::uniform({1001}, -1, 2, gpu, dtype, Device::cuda());
    EXPECT_EQ(u_gpu.device(), Device::cuda());
    EXPECT_EQ(u_gpu.to_vector<double>(), u_cpu.to_vector<double>());
    Tensor n_cpu = ops::normal({1001}, 0, 1, cpu, dtype);
    Tensor n_gpu = ops::normal({1001}, 0, 1, gpu, dtype, Device::cuda());
    auto message = testing::compare(n_gpu.cpu(), n_cpu, testing::tolerance_for(dtype));
    EXPECT_TRUE(message.empty()) << message;
    Tensor p = ops::uniform({333}, 0, 1, cpu, dtype);
    EXPECT_EQ(ops::bernoulli(p.to(Device::cuda()), gpu).to_vector<double>(),
              ops::bernoulli(p, cpu).to_vector<double>());
    EXPECT_EQ(cpu.state(), gpu.state());
  }
}

}  // namespace
}  // namespace osprey
