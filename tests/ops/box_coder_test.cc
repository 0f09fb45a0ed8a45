// Values, round trips, gradient and errors of box_encode / box_decode.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/box_coder/box_coder.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "tests/ops/box_test_util.h"

namespace osprey {
namespace {

using box_test::expect_error;
using box_test::f64;

void expect_near_all(const std::vector<double>& actual, const std::vector<double>& expected,
                     double tol = 1e-12) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << i;
}

TEST(BoxCoder, EncodeValues) {
  Tensor ref = f64({0, 0, 10, 10}, {1, 4}), box = f64({5, 5, 15, 25}, {1, 4});
  expect_near_all(ops::box_encode(ref, box).to_vector<double>(), {0.5, 1.0, 0, std::log(2.0)});
  ops::BoxCoderOptions rcnn;
  rcnn.weights = {10, 10, 5, 5};
  expect_near_all(ops::box_encode(ref, box, rcnn).to_vector<double>(),
                  {5, 10, 0, 5 * std::log(2.0)});
  // +1: widths 10 and 10, heights 10 and 20, centres 4.5 -> 9.5 and 4.5 -> 14.5.
  rcnn.legacy_plus_one = true;
  expect_near_all(ops::box_encode(f64({0, 0, 9, 9}, {1, 4}), f64({5, 5, 14, 24}, {1, 4}), rcnn)
                      .to_vector<double>(),
                  {5, 10, 0, 5 * std::log(2.0)});
}

TEST(BoxCoder, DecodeInvertsEncode) {
  Tensor ref = f64({0, 0, 10, 10, 3, 4, 20, 9}, {2, 4});
  Tensor box = f64({5, 5, 15, 25, 1, 2, 8, 30}, {2, 4});
  for (bool plus_one : {false, true}) {
    ops::BoxCoderOptions o;
    o.weights = {10, 10, 5, 5};
    o.legacy_plus_one = plus_one;
    Tensor deltas = ops::box_encode(ref, box, o);
    expect_near_all(ops::box_decode(ref, deltas, o).to_vector<double>(), box.to_vector<double>(),
                    1e-9);
  }
}

TEST(BoxCoder, DecodePerClassAndClip) {
  Tensor ref = f64({0, 0, 10, 10}, {1, 4});
  Tensor deltas = f64({0, 0, 0, 0, 0.1, 0, 0, 100}, {1, 8});
  ops::BoxCoderOptions o;
  o.clip = std::log(4.0);
  Tensor out = ops::box_decode(ref, deltas, o);
  EXPECT_EQ(out.shape(), (Shape{1, 8}));
  // Class 1: centre moved by 1 px; height exp(min(100, log 4)) * 10 = 40 around centre 5.
  std::vector<double> v = out.to_vector<double>();
  expect_near_all({v.begin(), v.begin() + 4}, {0, 0, 10, 10}, 1e-9);
  EXPECT_NEAR(v[5], -15, 1e-9);
  EXPECT_NEAR(v[7], 25, 1e-9);
  EXPECT_NEAR(v[4], 1, 1e-9);
  EXPECT_NEAR(v[6], 11, 1e-9);
}

TEST(BoxCoder, DecodeGradient) {
  // d(sum of x2 - x1) / d dw = pw / ww; d / d dx = 0 (x1 and x2 move together).
  Tensor ref = f64({0, 0, 10, 10}, {1, 4});
  Tensor deltas = f64({0.2, 0.1, 0.3, -0.2}, {1, 4});
  deltas.set_requires_grad(true);
  ops::BoxCoderOptions o;
  o.weights = {1, 1, 2, 2};
  Tensor out = ops::box_decode(ref, deltas, o);
  ops::sum(out.select(1, 2) - out.select(1, 0)).backward();
  expect_near_all(deltas.grad().to_vector<double>(), {0, 0, 10 * std::exp(0.15) / 2, 0}, 1e-9);
}

TEST(BoxCoder, Errors) {
  Tensor ref = f64({0, 0, 10, 10}, {1, 4});
  expect_error(
      [&] {
        ops::box_decode(ref, f64({0, 0, 0, 0, 0}, {1, 5}));
      },
      {"box_decode", "'deltas'", "[N, 4K]", "f64[1, 5]"});
  expect_error(
      [&] {
        ops::box_decode(ref, f64({0, NAN, 0, 0}, {1, 4}));
      },
      {"box_decode", "'deltas'", "NaN"});
  expect_error(
      [&] {
        ops::box_encode(ref, f64({0, 0, 1, 1, 0, 0, 1, 1}, {2, 4}));
      },
      {"box_encode", "'boxes'", "[2, 4]"});
  ops::BoxCoderOptions o;
  o.weights = {1, 1, 0, 1};
  expect_error([&] { ops::box_encode(ref, ref, o); }, {"box_encode", "'weights'", "positive"});
  expect_error(
      [&] {
        ops::box_decode(f64({5, 0, 1, 1}, {1, 4}), f64({0, 0, 0, 0}, {1, 4}));
      },
      {"box_decode", "'reference_boxes'", "x2 < x1"});
}

}  // namespace
}  // namespace osprey
