// Helpers shared by the box-op tests (box ops, nms family, anchors): literal tensors and error
// expectations.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::box_test {

inline Tensor f32(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, shape);
}
inline Tensor f64(std::vector<double> values, Shape shape) {
  return Tensor::from_vector<double>(values, shape);
}
inline Tensor i64(std::vector<int64_t> values, Shape shape) {
  return Tensor::from_vector<int64_t>(values, shape);
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

}  // namespace osprey::box_test
