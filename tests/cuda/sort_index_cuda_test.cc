// Value tests of the CUDA sort, topk, max/argmin, masked_select, scatter_add, var and randperm
// kernels against the CPU on inputs the case lists do not reach: every dtype, signed zeros,
// infinities and NaNs, long rows (the block and multi-tile paths), integer atomics, broadcast
// masks and the host-shuffled randperm. Skips without a GPU.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <limits>

#include "framework/dispatch/registry.h"
#include "ops/cat/cat.h"
#include "ops/index/index.h"
#include "ops/reduce/reduce.h"
#include "ops/sort/sort.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

constexpr testing::Tolerance kExact{0.0, 0.0};

Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda());
}

// Ties, signed zeros, infinities and (for floats) NaNs, in a [4, 6] tensor of `dtype`.
Tensor tricky(DType dtype) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  if (is_floating(dtype)) {
    return Tensor::from_vector<double>({0.0,  -0.0, 1.5,  nan,  -inf, 1.5,   //
                                        inf,  nan,  -2.0, -0.0, 0.0,  nan,   //
                                        3.0,  3.0,  3.0,  -1.0, inf,  -inf,  //
                                        -0.0, 0.0,  -0.0, 2.0,  nan,  1.0},
                                       {4, 6})
        .to(dtype);
  }
  if (dtype == DType::boolean) {
    return Tensor::from_vector<double>(
               {1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1}, {4, 6})
        .to(dtype);
  }
  const bool is_unsigned = dtype == DType::u8;
  return Tensor::from_vector<double>({0,
                                      7,
                                      3,
                                      3,
                                      is_unsigned ? 200.0 : -5.0,
                                      1,  //
                                      9,
                                      9,
                                      0,
                                      is_unsigned ? 255.0 : -9.0,
                                      2,
                                      2,  //
                                      4,
                                      4,
                                      4,
                                      4,
                                      4,
                                      4,  //
                                      1,
                                      0,
                                      1,
                                      0,
                                      1,
                                      is_unsigned ? 128.0 : -1.0},
                                     {4, 6})
      .to(dtype);
}

const DType kAllDTypes[] = {DType::f32, DType::f64, DType::f16, DType::bf16,
                            DType::i32, DType::i64, DType::u8,  DType::boolean};

TEST(CudaSort, EveryDTypeMatchesCpuExactly) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (DType dtype : kAllDTypes) {
    Tensor x = tricky(dtype);
    for (int64_t dim : {0, 1}) {
      for (bool descending : {false, true}) {
        auto [cv, ci] = ops::sort(x, dim, descending);
        auto [gv, gi] = ops::sort(on_gpu(x), dim, descending);
        SCOPED_TRACE(fmt::format("{} dim {} descending {}", dtype_name(dtype), dim, descending));
        EXPECT_EQ(testing::compare(gi, ci, kExact), "");
        EXPECT_EQ(testing::compare(gv, cv, kExact), "");
      }
    }
  }
}

TEST(CudaSort, TopkOnLongRowsMatchesCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  // Values with many repeats so ties cross tiles of the radix sort.
  std::vector<float> values(3 * 5000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7919) % 101);
  Tensor x = Tensor::from_vector<float>(values, {3, 5000});
  for (bool largest : {true, false}) {
    auto [cv, ci] = ops::topk(x, 9, -1, largest);
    auto [gv, gi] = ops::topk(on_gpu(x), 9, -1, largest);
    EXPECT_EQ(testing::compare(gi, ci, kExact), "");
    EXPECT_EQ(testing::compare(gv, cv, kExact), "");
  }
}

TEST(CudaExtremum, LongRowsKeepFirstTieAndFirstNan) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::vector<double> values(2 * 1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 17);
  values[700] = std::numeric_limits<double>::quiet_NaN();
  values[300] = std::numeric_limits<double>::quiet_NaN();
  for (DType dtype : {DType::f32, DType::f64, DType::f16, DType::i32}) {
    if (dtype == DType::i32) values[300] = values[700] = 3;  // no NaN in integers
    Tensor x = Tensor::from_vector<double>(values, {2, 1000}).to(dtype);
    SCOPED_TRACE(dtype_name(dtype));
    auto [cv, ci] = ops::max(x, 1);
    auto [gv, gi] = ops::max(on_gpu(x), 1);
    EXPECT_EQ(testing::compare(gi, ci, kExact), "");
    EXPECT_EQ(testing::compare(gv, cv, kExact), "");
    EXPECT_EQ(testing::compare(ops::argmin(on_gpu(x), 1), ops::argmin(x, 1), kExact), "");
    EXPECT_EQ(testing::compare(ops::argmax(on_gpu(x), 0), ops::argmax(x, 0), kExact), "");
  }
}

TEST(CudaIndex, CopyingOpsEveryDType) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor index = Tensor::from_vector<int64_t>({2, 0, 2, 1}, {4});
  Tensor gather_index = Tensor::from_vector<int64_t>({3, 0, 1, 1, 2, 0}, {3, 2}).to(DType::i32);
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor x = tricky(dtype).narrow(0, 0, 3);  // [3, 6]
    Tensor g = on_gpu(x);
    EXPECT_EQ(testing::compare(ops::index_select(g, 1, on_gpu(index)),
                               ops::index_select(x, 1, index), kExact),
              "");
    EXPECT_EQ(testing::compare(ops::gather(g.transpose(0, 1), 0, on_gpu(gather_index)),
                               ops::gather(x.transpose(0, 1), 0, gather_index), kExact),
              "");
    EXPECT_EQ(testing::compare(ops::cat({g, g.narrow(0, 1, 2)}, 0),
                               ops::cat({x, x.narrow(0, 1, 2)}, 0), kExact),
              "");
    EXPECT_EQ(testing::compare(ops::stack({g, g}, 2), ops::stack({x, x}, 2), kExact), "");
  }
}

TEST(CudaIndex, MaskedSelectBroadcastAndEmpty) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).to(DType::i64);
  Tensor mask = Tensor::from_vector<double>({1, 0, 1}, {3}).to(DType::boolean);
  Tensor expected = ops::masked_select(x, mask);
  EXPECT_EQ(testing::compare(ops::masked_select(on_gpu(x), on_gpu(mask)), expected, kExact), "");
  Tensor none = Tensor::from_vector<double>({0, 0, 0}, {3}).to(DType::boolean);
  Tensor empty = ops::masked_select(on_gpu(x), on_gpu(none));
  EXPECT_EQ(empty.shape(), Shape{0});
}

TEST(CudaIndex, ScatterAddIntegerAtomics) {
  OSPREY_SKIP_WITHOUT_GPU();
  Tensor index = Tensor::from_vector<int64_t>({0, 1, 0, 3, 3, 3, 2, 0}, {8});
  for (DType dtype : {DType::i32, DType::i64, DType::u8}) {
    Tensor input = Tensor::from_vector<double>({1, 2, 3, 4}, {4}).to(dtype);
    Tensor src = Tensor::from_vector<double>({5, 6, 7, 8, 9, 10, 11, 12}, {8}).to(dtype);
    Tensor expected = ops::scatter_add(input, 0, index, src);
    Tensor actual = ops::scatter_add(on_gpu(input), 0, on_gpu(index), on_gpu(src));
    EXPECT_EQ(testing::compare(actual, expected, kExact), "") << dtype_name(dtype);
  }
}

TEST(CudaReduce, VarHalfLongRows) {
  OSPREY_SKIP_WITHOUT_GPU();
  std::vector<float> values(4 * 3000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 31) % 97) / 97;
  Tensor x = Tensor::from_vector<float>(values, {4, 3000});
  for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    Tensor xd = x.to(dtype);
    EXPECT_EQ(testing::compare(ops::var(on_gpu(xd), {1}), ops::var(xd, {1}),
                               testing::tolerance_for(dtype)),
              "")
        << dtype_name(dtype);
  }
}

TEST(CudaRandom, RandpermMatchesCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (int64_t n : {0, 1, 2, 1000}) {
    dispatch::Attrs attrs{{"n", n}, {"seed", int64_t{42}}, {"offset", int64_t{3}}};
    Tensor expected = dispatch::call1("randperm", {}, attrs);
    Tensor out = Tensor::empty({n}, DType::i64, Device::cuda());
    Tensor actual = dispatch::call("randperm", {}, attrs, {out}).at(0);
    EXPECT_EQ(testing::compare(actual, expected, kExact), "") << "n = " << n;
  }
}

}  // namespace
}  // namespace osprey
