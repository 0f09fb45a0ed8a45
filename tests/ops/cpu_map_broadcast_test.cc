// cpu_map (ops/common/cpu_loops.h) on every layout its row planner (ops/common/strided_loop.h)
// handles: broadcasting over batch, channel and spatial dims, scalars, channels-last and
// transposed operands, strided output views, zero-size dims, ranks 1 to 6, mixed dtypes and sizes
// around kParallelGrain. Each result is compared bit for bit with a plain loop written here that
// reads every operand through its own shape and strides, and outputs that are views of a larger
// poisoned buffer must leave the elements outside the view untouched.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "framework/core/tensor.h"
#include "ops/common/cpu_loops.h"

namespace osprey {
namespace {

using ops::cpu_map;
using ops::kParallelGrain;

// Distinct, exactly representable values of T, different for each seed.
template <typename T>
Tensor values(const Shape& shape, int seed) {
  std::vector<T> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<T>(static_cast<int64_t>((i * 37 + seed * 11) % 251) - 125 + seed);
  }
  return Tensor::from_vector<T>(v, shape);
}

// Element `index` (row-major over `shape`) of t broadcast to `shape`, read through t's strides.
template <typename T>
T element(const Tensor& t, const Shape& shape, const std::vector<int64_t>& index) {
  const size_t lead = shape.size() - t.shape().size();
  int64_t offset = 0;
  for (size_t d = 0; d < t.shape().size(); ++d) {
    if (t.shape()[d] != 1) offset += index[lead + d] * t.strides()[d];
  }
  return static_cast<const T*>(t.raw_data())[offset];
}

// Every row-major multi-index of `shape`, by plain division.
std::vector<std::vector<int64_t>> all_indices(const Shape& shape) {
  std::vector<std::vector<int64_t>> out;
  const int64_t n = shape_numel(shape);
  for (int64_t linear = 0; linear < n; ++linear) {
    std::vector<int64_t> index(shape.size());
    int64_t rest = linear;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    out.push_back(index);
  }
  return out;
}

template <typename T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// out = f(a) checked against the plain loop.
template <typename R, typename A, typename F>
void expect_unary(const Tensor& out, F f, const Tensor& a) {
  cpu_map<R, A>(out, f, a);
  for (const auto& index : all_indices(out.shape())) {
    const R expected = static_cast<R>(f(element<A>(a, out.shape(), index)));
    ASSERT_TRUE(same_bits(element<R>(out, out.shape(), index), expected))
        << "at flat index of " << shape_str(index) << " of " << out.describe();
  }
}

template <typename F>
void expect_binary(const Tensor& out, F f, const Tensor& a, const Tensor& b) {
  cpu_map<float, float, float>(out, f, a, b);
  for (const auto& index : all_indices(out.shape())) {
    const Shape& s = out.shape();
    const float expected = f(element<float>(a, s, index), element<float>(b, s, index));
    ASSERT_TRUE(same_bits(element<float>(out, s, index), expected))
        << "at " << shape_str(index) << ": " << element<float>(out, s, index) << " vs " << expected
        << "; out " << out.describe() << ", a " << a.describe() << ", b " << b.describe();
  }
}

// Not commutative and not a multiply-add (no contraction can change the result).
const auto kSubScaled = [](float x, float y) { return x * 0.5f - y; };

TEST(CpuMapBroadcast, ChannelMeansAndBatchAndSpatialBroadcasts) {
  const Shape shape{2, 3, 5, 7};
  const Tensor x = values<float>(shape, 1);
  for (const Shape& small : std::vector<Shape>{
           {1, 3, 1, 1}, {2, 1, 1, 1}, {1, 1, 5, 7}, {5, 1}, {7}, {2, 1, 5, 1}, {1, 3, 1, 7}}) {
    SCOPED_TRACE(shape_str(small));
    const Tensor s = values<float>(small, 2);
    expect_binary(Tensor::empty(shape), kSubScaled, x, s);
    expect_binary(Tensor::empty(shape), kSubScaled, s, x);
  }
  // Both inputs broadcast: B×1×H×1 against B×1×1×W, as normalise_batch's valid mask.
  expect_binary(Tensor::empty({2, 1, 5, 7}), kSubScaled, values<float>({2, 1, 5, 1}, 3),
                values<float>({2, 1, 1, 7}, 4));
}

TEST(CpuMapBroadcast, ScalarAgainstTensor) {
  const Tensor x = values<float>({4, 9}, 1);
  const Tensor scalar = Tensor::scalar<float>(3.25f);
  expect_binary(Tensor::empty({4, 9}), kSubScaled, x, scalar);
  expect_binary(Tensor::empty({4, 9}), kSubScaled, scalar, x);
  expect_binary(Tensor::empty({}), kSubScaled, scalar, Tensor::scalar<float>(-1.0f));
}

TEST(CpuMapBroadcast, ChannelsLastOperandsAndOutputs) {
  const Shape shape{2, 4, 3, 5};
  constexpr auto kLast = MemoryFormat::channels_last;
  const Tensor x = values<float>(shape, 1).contiguous(kLast);
  const Tensor y = values<float>(shape, 2).contiguous(kLast);
  ASSERT_TRUE(x.is_contiguous(kLast) && !x.is_contiguous());
  expect_binary(Tensor::empty(shape, DType::f32, Device::cpu(), kLast), kSubScaled, x, y);
  expect_binary(Tensor::empty(shape), kSubScaled, x, y);
  expect_binary(Tensor::empty(shape, DType::f32, Device::cpu(), kLast), kSubScaled,
                values<float>(shape, 3), y);
  expect_binary(Tensor::empty(shape, DType::f32, Device::cpu(), kLast), kSubScaled, x,
                values<float>({1, 4, 1, 1}, 4));
}

TEST(CpuMapBroadcast, TransposedOperand) {
  const Tensor x = values<float>({7, 6}, 1).transpose(0, 1);  // 6×7, strides (1, 6)
  ASSERT_FALSE(x.is_contiguous());
  expect_binary(Tensor::empty({6, 7}), kSubScaled, x, values<float>({6, 7}, 2));
  expect_binary(Tensor::empty({6, 7}), kSubScaled, values<float>({6, 7}, 2), x);
  expect_binary(Tensor::empty({6, 7}), kSubScaled, x, values<float>({6, 1}, 3));
  // A permuted 4-d operand against a contiguous one.
  const Tensor p = values<float>({3, 5, 2, 4}, 4).permute({2, 0, 3, 1});  // 2×3×4×5
  expect_binary(Tensor::empty({2, 3, 4, 5}), kSubScaled, p, values<float>({2, 3, 4, 5}, 5));
}

TEST(CpuMapBroadcast, ZeroSizeDimWritesNothing) {
  const Tensor out = Tensor::empty({2, 0, 3});
  cpu_map<float, float, float>(out, kSubScaled, values<float>({2, 0, 3}, 1),
                               values<float>({1, 1, 3}, 2));
  EXPECT_EQ(out.numel(), 0);
}

TEST(CpuMapBroadcast, RanksOneToSix) {
  for (int rank = 1; rank <= 6; ++rank) {
    Shape shape, small;
    for (int d = 0; d < rank; ++d) {
      shape.push_back(2 + (d * 3) % 4);                // 2, 5, 4, 3, 2, 5
      small.push_back(d % 2 == 0 ? shape.back() : 1);  // broadcast along odd dims
    }
    SCOPED_TRACE(shape_str(shape));
    const Tensor x = values<float>(shape, rank);
    expect_binary(Tensor::empty(shape), kSubScaled, x, values<float>(small, 7));
    if (rank >= 2) {
      // The same with x's last two dims swapped in memory.
      const Tensor xt = x.transpose(rank - 2, rank - 1).contiguous().transpose(rank - 2, rank - 1);
      expect_binary(Tensor::empty(shape), kSubScaled, xt, values<float>(small, 7));
    }
  }
}

TEST(CpuMapBroadcast, StridedOutputViewLeavesTheRestAlone) {
  constexpr float kPoison = -999.0f;
  Tensor buffer = Tensor::empty({4, 6, 10});
  buffer.fill_(kPoison);
  // Every other column of a narrowed block, and a transposed view.
  const Tensor out = buffer.narrow(1, 1, 4).slice(2, 1, 9, 2);  // 4×4×4
  expect_binary(out, kSubScaled, values<float>({4, 4, 4}, 1), values<float>({1, 4, 1}, 2));
  const float* all = buffer.data<float>();
  int64_t untouched = 0;
  for (int64_t i = 0; i < buffer.numel(); ++i) untouched += all[i] == kPoison;
  EXPECT_EQ(untouched, buffer.numel() - out.numel());

  Tensor square = Tensor::empty({5, 8});
  const Tensor transposed = square.transpose(0, 1);  // 8×5, strides (1, 8)
  expect_binary(transposed, kSubScaled, values<float>({8, 5}, 3), values<float>({8, 1}, 4));
  // Zero inputs (a fill) into a strided view.
  buffer.fill_(kPoison);
  cpu_map<float>(out, [] { return 2.5f; });
  for (const auto& index : all_indices(out.shape())) {
    ASSERT_EQ(element<float>(out, out.shape(), index), 2.5f);
  }
  untouched = 0;
  for (int64_t i = 0; i < buffer.numel(); ++i) untouched += all[i] == kPoison;
  EXPECT_EQ(untouched, buffer.numel() - out.numel());
}

TEST(CpuMapBroadcast, MixedDtypesU8ToFloat) {
  const auto to_float = [](uint8_t v) { return static_cast<float>(v) * 0.25f; };
  Tensor images = Tensor::empty({2, 3, 5, 7}, DType::u8);
  uint8_t* bytes = images.data<uint8_t>();
  for (int64_t i = 0; i < images.numel(); ++i) bytes[i] = static_cast<uint8_t>((i * 67) % 256);
  expect_unary<float, uint8_t>(Tensor::empty({2, 3, 5, 7}), to_float, images);
  expect_unary<float, uint8_t>(Tensor::empty({2, 3, 5, 7}), to_float,
                               images.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2}));
  expect_unary<float, uint8_t>(Tensor::empty({2, 3, 5, 7}), to_float,
                               images.narrow(2, 0, 1).narrow(3, 2, 1));  // 2×3×1×1, broadcast
  expect_unary<double, float>(
      Tensor::empty({7, 5}, DType::f64), [](float v) { return static_cast<double>(v) / 3.0; },
      values<float>({5, 7}, 1).transpose(0, 1));
}

TEST(CpuMapBroadcast, ThreeInputsEachBroadcastInTurnAndInPlace) {
  const auto f = [](float a, float b, float c) { return (a - b) * c; };
  const Shape shape{3, 4, 33};
  const Tensor full = values<float>(shape, 1), row = values<float>({3, 4, 1}, 2),
               plane = values<float>({1, 1, 33}, 3);
  const std::vector<std::vector<Tensor>> cases{
      {row, full, plane}, {full, row, full}, {full, plane, row}, {full, full, full}};
  for (const auto& in : cases) {
    const Tensor out = Tensor::empty(shape);
    cpu_map<float, float, float, float>(out, f, in[0], in[1], in[2]);
    for (const auto& index : all_indices(shape)) {
      const float expected =
          f(element<float>(in[0], shape, index), element<float>(in[1], shape, index),
            element<float>(in[2], shape, index));
      ASSERT_TRUE(same_bits(element<float>(out, shape, index), expected)) << shape_str(index);
    }
  }
  // In place: the output is input 0 (each element reads then writes itself).
  Tensor x = values<float>(shape, 4);
  const std::vector<float> before = x.to_vector<float>();
  cpu_map<float, float, float>(x, kSubScaled, x, row);
  const std::vector<float> after = x.to_vector<float>();
  int64_t i = 0;
  for (const auto& index : all_indices(shape)) {
    ASSERT_TRUE(same_bits(after[i], kSubScaled(before[i], element<float>(row, shape, index))));
    ++i;
  }
}

TEST(CpuMapBroadcast, SizesAroundTheParallelGrain) {
  for (int64_t n : {kParallelGrain - 1, kParallelGrain, kParallelGrain + 1}) {
    SCOPED_TRACE(n);
    expect_binary(Tensor::empty({n}), kSubScaled, values<float>({n}, 5), values<float>({n}, 6));
    expect_binary(Tensor::empty({n}), kSubScaled, Tensor::scalar<float>(2.0f),
                  values<float>({n}, 7));
  }
  // Rows of 29: 1129 rows stay below the grain (one thread); 1131 and 3391 rows pass it, and an
  // odd row count makes the threads' ranges start and end inside a row.
  for (int64_t rows : {1129, 1131, 3391}) {
    SCOPED_TRACE(rows);
    const Shape shape{rows, 29};
    expect_binary(Tensor::empty(shape), kSubScaled, values<float>(shape, 1),
                  values<float>({1, 29}, 2));
    expect_binary(Tensor::empty(shape), kSubScaled, values<float>({29, rows}, 3).transpose(0, 1),
                  values<float>({rows, 1}, 4));
  }
#ifdef _OPENMP
  // Three threads split 3·grain + 7 elements into uneven ranges.
  const int previous = omp_get_max_threads();
  omp_set_num_threads(3);
  const Shape shape{(3 * kParallelGrain + 7) / 13, 13};
  expect_binary(Tensor::empty(shape), kSubScaled, values<float>(shape, 1), values<float>({13}, 2));
  omp_set_num_threads(previous);
#endif
}

TEST(CpuMapBroadcast, PlanMergesAndReordersDims) {
  // x[2,3,608,800] - s[1,3,1,1]: rows of 608·800 where s is one value.
  const Shape image{2, 3, 608, 800};
  const Shape x_strides = contiguous_strides(image);
  auto loop = ops::plan_strided_loop<3>(image, {x_strides, x_strides, Shape{0, 1, 0, 0}});
  ASSERT_EQ(loop.ndim, 3);
  EXPECT_EQ(loop.inner_size(), 608 * 800);
  EXPECT_EQ(loop.sizes[0], 2);
  EXPECT_EQ(loop.sizes[1], 3);
  EXPECT_EQ(loop.inner_stride(0), 1);
  EXPECT_EQ(loop.inner_stride(2), 0);
  // Two dense channels-last tensors: one flat row.
  const Shape nchw{8, 64, 56, 56};
  const Shape last = channels_last_strides(nchw);
  auto flat = ops::plan_strided_loop<3>(nchw, {last, last, last});
  ASSERT_EQ(flat.ndim, 1);
  EXPECT_EQ(flat.inner_size(), 8 * 64 * 56 * 56);
  // Size-1 dims only: one row of one element.
  auto one = ops::plan_strided_loop<2>(Shape{1, 1}, {Shape{0, 0}, Shape{0, 0}});
  EXPECT_EQ(one.ndim, 1);
  EXPECT_EQ(one.inner_size(), 1);
}

}  // namespace
}  // namespace osprey
