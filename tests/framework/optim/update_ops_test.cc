// The optimiser update ops called directly: kernel keys, in-place writes with version bumps,
// per-parameter attributes, and the errors of a malformed call.
#include <gtest/gtest.h>

#include <functional>

#include "framework/dispatch/registry.h"
#include "ops/optim_update/optim_update.h"
#include "tests/framework/optim/optim_test_util.h"

namespace osprey::optim {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(SgdUpdateOp, UpdatesInPlaceAndBumpsVersions) {
  Tensor p = Tensor::from_vector<double>({1.0, 2.0}, {2});
  Tensor q = Tensor::from_vector<double>({1.0}, {1});
  Tensor g = Tensor::from_vector<double>({0.5, 0.5}, {2});
  Tensor h = Tensor::from_vector<double>({1.0}, {1});
  Tensor b = Tensor::from_vector<double>({0.0, 0.0}, {2});
  Tensor c = Tensor::from_vector<double>({1.0}, {1});
  const uint64_t pv = p.version(), gv = g.version();
  ops::sgd_update(
      {p, q}, {g, h}, {b, c},
      {.lr = {0.1, 1.0}, .weight_decay = {0.0, 0.5}, .momentum = 0.5, .new_buffer = {1, 0}});
  EXPECT_EQ(dispatch::last_kernel_key(), "sgd_update/cpu/parallel");
  // p: new buffer = g; q: b = 0.5 * 1 + (1 + 0.5 * 1) = 2, q = 1 - 2.
  EXPECT_NEAR(p.to_vector<double>()[0], 0.95, 1e-15);
  EXPECT_NEAR(p.to_vector<double>()[1], 1.95, 1e-15);
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(c.item<double>(), 2.0);
  EXPECT_EQ(q.item<double>(), -1.0);
  EXPECT_GT(p.version(), pv);
  EXPECT_EQ(g.version(), gv);  // gradients are read only
}

// A strided parameter is updated through a contiguous copy written back; the elements between
// its strides stay untouched.
TEST(SgdUpdateOp, StridedParameterIsWrittenBack) {
  Tensor storage = Tensor::from_vector<double>({1, 2, 3, 4}, {4});
  Tensor p = storage.slice(0, 0, 4, 2);  // elements 1 and 3
  Tensor g = Tensor::from_vector<double>({1.0, -1.0}, {2});
  ops::sgd_update({p}, {g}, {}, {.lr = {0.5}, .weight_decay = {0.0}});
  EXPECT_EQ(storage.to_vector<double>(), (std::vector<double>{0.5, 2, 3.5, 4}));
}

// Channels-last parameter, gradient and buffer share one dense layout: updated in place as is,
// element for element the same as the contiguous update.
TEST(SgdUpdateOp, ChannelsLastMatchesContiguous) {
  std::vector<double> pv(24), gv(24);
  for (int k = 0; k < 24; ++k) pv[k] = 0.1 * k, gv[k] = 0.05 * (k % 5) - 0.1;
  auto run = [&](MemoryFormat format) {
    Tensor p = Tensor::from_vector(pv, {1, 2, 3, 4}).contiguous(format);
    Tensor g = Tensor::from_vector(gv, {1, 2, 3, 4}).contiguous(format);
    Tensor b = Tensor::from_vector(gv, {1, 2, 3, 4}).contiguous(format);
    for (int s = 0; s < 2; ++s) {
      ops::sgd_update({p}, {g}, {b},
                      {.lr = {0.1}, .weight_decay = {0.01}, .momentum = 0.9, .nesterov = true});
    }
    EXPECT_TRUE(p.is_contiguous(format));
    return p.to_vector<double>();
  };
  EXPECT_EQ(run(MemoryFormat::channels_last), run(MemoryFormat::contiguous));
}

TEST(AdamWUpdateOp, FirstStep) {
  Tensor p = Tensor::from_vector<double>({1.0}, {1});
  Tensor g = Tensor::from_vector<double>({0.5}, {1});
  Tensor m = Tensor::from_vector<double>({0.0}, {1});
  Tensor v = Tensor::from_vector<double>({0.0}, {1});
  ops::adamw_update({p}, {g}, {m}, {v}, {.lr = {0.1}, .weight_decay = {0.0}, .step = {1}});
  EXPECT_EQ(dispatch::last_kernel_key(), "adamw_update/cpu/reference");
  // The first Adam step moves by lr * g / (|g| + eps): 0.1 * 0.5 / (0.5 + 1e-8).
  EXPECT_NEAR(p.item<double>(), 0.9 + 2e-9, 1e-15);
  EXPECT_NEAR(m.item<double>(), 0.05, 1e-16);
}

TEST(UpdateOps, MalformedCallsFailClearly) {
  Tensor p = Tensor::from_vector<double>({1.0, 2.0}, {2});
  Tensor g = Tensor::from_vector<double>({0.5, 0.5}, {2});
  Tensor wrong = Tensor::from_vector<double>({0.5}, {1});
  Tensor f32 = Tensor::from_vector<float>({0.5f, 0.5f}, {2});
  EXPECT_NE(error_of([&] {
              ops::sgd_update({p}, {g}, {}, {.lr = {0.1, 0.2}, .weight_decay = {0, 0}});
            }).find("expected 2 groups (param, grad) of 2 tensors"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ops::sgd_update({p}, {g}, {}, {.lr = {0.1}, .weight_decay = {0, 0}});
            }).find("attribute 'weight_decay' has 2 values for 1 parameters"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ops::sgd_update({p}, {wrong}, {}, {.lr = {0.1}, .weight_decay = {0}});
            }).find("grad #0 is f64[1] cpu but its param is f64[2] cpu"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ops::sgd_update({p}, {f32}, {}, {.lr = {0.1}, .weight_decay = {0}});
            }).find("grad #0 is f32[2]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ops::sgd_update({p}, {g}, {}, {.lr = {0.1}, .weight_decay = {0}, .nesterov = true});
            }).find("nesterov"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ops::adamw_update({p}, {g}, {g}, {g},
                                {.lr = {0.1}, .weight_decay = {0}, .step = {0}});
            }).find("steps count from 1"),
            std::string::npos);
}

}  // namespace
}  // namespace osprey::optim
