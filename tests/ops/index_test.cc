// Value and error tests of index_select, gather, scatter_add and masked_select.
#include <gtest/gtest.h>

#include "framework/dispatch/registry.h"
#include "ops/index/index.h"

namespace osprey {
namespace {

Tensor f32(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, shape);
}
Tensor i64(std::vector<int64_t> values, Shape shape) {
  return Tensor::from_vector<int64_t>(values, shape);
}
Tensor mask_of(std::vector<uint8_t> values, Shape shape) {
  return Tensor::from_vector<uint8_t>(values, shape).to(DType::boolean);
}

// Expects `fn` to throw an Error whose message contains every fragment.
template <typename Fn>
void expect_error(Fn fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    for (const char* f : fragments) EXPECT_NE(what.find(f), std::string::npos) << what;
  }
}

TEST(IndexSelect, KnownValues) {
  Tensor t = f32({0, 1, 2, 3, 4, 5}, {3, 2});
  EXPECT_EQ(ops::index_select(t, 0, i64({2, 0, 2}, {3})).to_vector<float>(),
            (std::vector<float>{4, 5, 0, 1, 4, 5}));
  EXPECT_EQ(dispatch::last_kernel_key(), "index_select/cpu/reference");
  Tensor cols = ops::index_select(t, 1, i64({1}, {1}).to(DType::i32));
  EXPECT_EQ(cols.shape(), (Shape{3, 1}));
  EXPECT_EQ(cols.to_vector<float>(), (std::vector<float>{1, 3, 5}));
  // A transposed (strided) input takes the slice-copy path.
  Tensor tt = t.transpose(0, 1);
  EXPECT_EQ(ops::index_select(tt, 1, i64({1, 2}, {2})).to_vector<float>(),
            (std::vector<float>{2, 4, 3, 5}));
  Tensor ints = Tensor::from_vector<int64_t>({7, 8, 9}, {3});
  EXPECT_EQ(ops::index_select(ints, 0, i64({2, 2}, {2})).to_vector<int64_t>(),
            (std::vector<int64_t>{9, 9}));
}

TEST(IndexSelect, GradientAccumulatesRepeats) {
  Tensor t = f32({0, 1, 2}, {3}).set_requires_grad();
  ops::index_select(t, 0, i64({2, 0, 2}, {3})).backward(f32({1, 10, 100}, {3}));
  EXPECT_EQ(t.grad().to_vector<float>(), (std::vector<float>{10, 0, 101}));
}

TEST(IndexSelect, Errors) {
  Tensor t = f32({0, 1, 2, 3, 4, 5}, {3, 2});
  expect_error(
      [&] {
        ops::index_select(t, 0, i64({0, 3}, {2}));
      },
      {"index_select", "index", "3", "out of range"});
  expect_error([&] { ops::index_select(t, 0, i64({-1}, {1})); }, {"index_select", "-1"});
  expect_error([&] { ops::index_select(t, 0, f32({0}, {1})); }, {"index_select", "'index'"});
  expect_error([&] { ops::index_select(t, 2, i64({0}, {1})); }, {"index_select"});
  expect_error([&] { ops::index_select(t, 0, i64({0}, {1, 1})); }, {"index_select", "1-d"});
}

TEST(Gather, KnownValues) {
  Tensor t = f32({1, 2, 3, 4}, {2, 2});
  // torch.gather(t, 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]]
  EXPECT_EQ(ops::gather(t, 1, i64({0, 0, 1, 0}, {2, 2})).to_vector<float>(),
            (std::vector<float>{1, 1, 4, 3}));
  EXPECT_EQ(ops::gather(t, 0, i64({1, 0}, {1, 2})).to_vector<float>(), (std::vector<float>{3, 2}));
}

TEST(Gather, WritesIntoStridedOut) {
  Tensor t = f32({1, 2, 3, 4}, {2, 2});
  Tensor out = Tensor::empty({2, 2}).transpose(0, 1);
  dispatch::call_out("gather", out, {t, i64({0, 0, 1, 0}, {2, 2})}, {{"dim", int64_t{1}}});
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1, 1, 4, 3}));
}

TEST(Gather, Errors) {
  Tensor t = f32({1, 2, 3, 4}, {2, 2});
  expect_error(
      [&] {
        ops::gather(t, 1, i64({0, 2}, {1, 2}));
      },
      {"gather", "index", "value 2", "out of range"});
  expect_error([&] { ops::gather(t, 1, i64({0, 0}, {2})); }, {"gather", "rank"});
  expect_error([&] { ops::gather(t, 1, i64({0, 0, 0}, {3, 1})); }, {"gather", "larger"});
}

TEST(ScatterAdd, KnownValues) {
  Tensor input = f32({0, 0, 0, 0, 0, 0}, {2, 3});
  Tensor src = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor index = i64({0, 1, 0, 0, 0, 1}, {2, 3});
  // dim 0: out[index[i][j]][j] += src[i][j]
  EXPECT_EQ(ops::scatter_add(input, 0, index, src).to_vector<float>(),
            (std::vector<float>{5, 5, 3, 0, 2, 6}));
  // dim 1 with repeated targets; input is not modified.
  Tensor out = ops::scatter_add(input, 1, i64({2, 2, 0}, {1, 3}), src);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{3, 0, 3, 0, 0, 0}));
  EXPECT_EQ(input.to_vector<float>(), std::vector<float>(6, 0.0f));
}

TEST(ScatterAdd, Gradients) {
  Tensor input = f32({0, 0, 0}, {3}).set_requires_grad();
  Tensor src = f32({1, 2}, {2}).set_requires_grad();
  ops::scatter_add(input, 0, i64({2, 2}, {2}), src).backward(f32({1, 10, 100}, {3}));
  EXPECT_EQ(input.grad().to_vector<float>(), (std::vector<float>{1, 10, 100}));
  EXPECT_EQ(src.grad().to_vector<float>(), (std::vector<float>{100, 100}));
}

TEST(ScatterAdd, Errors) {
  Tensor input = f32({0, 0, 0}, {3});
  expect_error([&] { ops::scatter_add(input, 0, i64({3}, {1}), f32({1}, {1})); },
               {"scatter_add", "index", "3", "out of range"});
  expect_error(
      [&] {
        ops::scatter_add(input, 0, i64({0, 1}, {2}), f32({1}, {1}));
      },
      {"scatter_add", "src"});
  expect_error(
      [&] { ops::scatter_add(input, 0, i64({0}, {1}), Tensor::from_vector<double>({1}, {1})); },
      {"scatter_add", "dtype"});
}

TEST(MaskedSelect, KnownValuesAndBroadcast) {
  Tensor t = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(ops::masked_select(t, mask_of({1, 0, 1, 0, 0, 1}, {2, 3})).to_vector<float>(),
            (std::vector<float>{1, 3, 6}));
  EXPECT_EQ(ops::masked_select(t, mask_of({0, 1, 1}, {3})).to_vector<float>(),
            (std::vector<float>{2, 3, 5, 6}));
  Tensor col = f32({1, 2}, {2, 1});
  EXPECT_EQ(ops::masked_select(col, mask_of({1, 1, 0}, {3})).to_vector<float>(),
            (std::vector<float>{1, 1, 2, 2}));
  EXPECT_EQ(ops::masked_select(t, mask_of({0, 0, 0}, {3})).shape(), (Shape{0}));
}

TEST(MaskedSelect, GradientScattersBack) {
  Tensor col = f32({1, 2}, {2, 1}).set_requires_grad();
  ops::masked_select(col, mask_of({1, 1, 0}, {3})).backward(f32({1, 10, 100, 1000}, {4}));
  EXPECT_EQ(col.grad().to_vector<float>(), (std::vector<float>{11, 1100}));
}

TEST(MaskedSelect, Errors) {
  Tensor t = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_error([&] { ops::masked_select(t, mask_of({1, 0}, {2})); }, {"masked_select", "[2, 3]"});
  expect_error([&] { ops::masked_select(t, f32({1, 0, 1}, {3})); }, {"masked_select", "bool"});
}

}  // namespace
}  // namespace osprey
