// Optimiser state for checkpoints: names and counters, bit-identical steps after a restore, and
// the errors of a state that does not fit.
#include <gtest/gtest.h>

#include "framework/optim/adamw.h"
#include "framework/optim/sgd.h"
#include "tests/framework/optim/optim_test_util.h"

namespace osprey::optim {
namespace {

using testing::parameter;
using testing::set_grad;
using testing::values;

NamedParameters make_params() {
  return {{"net.conv.weight", parameter({0.5, -1.0, 2.0, 0.25}, {2, 2})},
          {"net.conv.bias", parameter({0.1, -0.1}, {2})},
          {"net.unused", parameter({3.0}, {1})}};
}

void set_grads(const NamedParameters& params, int step) {
  set_grad(params[0].second, {0.3 - 0.1 * step, -0.2, 0.7 * step, -0.4});
  set_grad(params[1].second, {0.05 * step, 0.5});
}

NamedParameters clone_params(const NamedParameters& params) {
  NamedParameters out;
  for (const auto& [name, t] : params) {
    Tensor c = t.detach().clone();
    c.set_requires_grad(true);
    out.emplace_back(name, c);
  }
  return out;
}

OptimizerState clone_state(const OptimizerState& s) {
  OptimizerState out = s;
  for (auto& [name, t] : out.tensors) t = t.clone();
  return out;
}

template <typename Opt, typename Options>
void check_resume_is_bit_identical(const Options& options) {
  NamedParameters params = make_params();
  Opt original(params, options);
  for (int s = 0; s < 2; ++s) {
    set_grads(params, s);
    original.step();
  }
  // Checkpoint: parameter values and optimiser state.
  NamedParameters resumed_params = clone_params(params);
  OptimizerState saved = clone_state(original.state());
  Opt resumed(resumed_params, options);
  resumed.load_state(saved);
  EXPECT_EQ(resumed.steps(), 2);
  for (int s = 2; s < 5; ++s) {
    set_grads(params, s);
    set_grads(resumed_params, s);
    original.step();
    resumed.step();
  }
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(values(params[i].second), values(resumed_params[i].second)) << params[i].first;
  }
}

TEST(OptimizerState, SgdResumeIsBitIdentical) {
  check_resume_is_bit_identical<Sgd>(
      SgdOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true});
}

TEST(OptimizerState, AdamWResumeIsBitIdentical) {
  check_resume_is_bit_identical<AdamW>(AdamWOptions{.lr = 0.01, .weight_decay = 0.05});
}

TEST(OptimizerState, NamesAndCounters) {
  NamedParameters params = make_params();
  AdamW adam(params, {});
  set_grads(params, 1);
  adam.step();
  auto s = adam.state();
  EXPECT_EQ(s.kind, "adamw");
  EXPECT_EQ(s.counters.at("steps"), 1);
  EXPECT_EQ(s.counters.at("step/net.conv.weight"), 1);
  EXPECT_EQ(s.counters.at("step/net.unused"), 0);
  EXPECT_EQ(s.tensors.size(), 4u);  // exp_avg and exp_avg_sq of the two updated parameters
  EXPECT_EQ(s.tensors.at("exp_avg_sq/net.conv.bias").shape(), (Shape{2}));
  EXPECT_EQ(s.tensors.count("exp_avg/net.unused"), 0u);
}

std::string load_error(Optimizer& opt, const OptimizerState& s) {
  try {
    opt.load_state(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(OptimizerState, LoadErrorsNameTheEntryAndChangeNothing) {
  NamedParameters params = make_params();
  Sgd sgd(params, {.lr = 0.1, .momentum = 0.9});
  set_grads(params, 1);
  sgd.step();
  const OptimizerState good = clone_state(sgd.state());

  OptimizerState wrong_kind = good;
  wrong_kind.kind = "adamw";
  EXPECT_NE(load_error(sgd, wrong_kind).find("'adamw'"), std::string::npos);

  OptimizerState missing = good;
  missing.tensors.erase("momentum_buffer/net.conv.bias");
  EXPECT_NE(load_error(sgd, missing).find("no tensor 'momentum_buffer/net.conv.bias'"),
            std::string::npos);

  OptimizerState no_counter = good;
  no_counter.counters.erase("step/net.unused");
  EXPECT_NE(load_error(sgd, no_counter).find("no counter 'step/net.unused'"), std::string::npos);

  OptimizerState bad_shape = good;
  bad_shape.tensors["momentum_buffer/net.conv.weight"] = Tensor::from_vector<double>({1, 2}, {2});
  const std::string shape_error = load_error(sgd, bad_shape);
  EXPECT_NE(shape_error.find("'momentum_buffer/net.conv.weight' is f64[2]"), std::string::npos)
      << shape_error;
  EXPECT_NE(shape_error.find("f64[2, 2]"), std::string::npos) << shape_error;

  OptimizerState extra = good;
  extra.tensors["momentum_buffer/net.other"] = Tensor::from_vector<double>({1}, {1});
  EXPECT_NE(load_error(sgd, extra).find("'momentum_buffer/net.other' belongs to no parameter"),
            std::string::npos);

  // None of the failed loads changed the state.
  auto now = sgd.state();
  EXPECT_EQ(now.counters, good.counters);
  EXPECT_EQ(values(now.tensors.at("momentum_buffer/net.conv.weight")),
            values(good.tensors.at("momentum_buffer/net.conv.weight")));
}

TEST(OptimizerState, LoadConvertsDtype) {
  NamedParameters params = make_params();
  Sgd sgd(params, {.lr = 0.1, .momentum = 0.9});
  OptimizerState s = sgd.state();
  s.tensors["momentum_buffer/net.conv.bias"] = Tensor::from_vector<float>({0.5f, 0.25f}, {2});
  s.counters["step/net.conv.bias"] = 1;
  sgd.load_state(s);
  auto loaded = sgd.state().tensors.at("momentum_buffer/net.conv.bias");
  EXPECT_EQ(loaded.dtype(), DType::f64);
  EXPECT_EQ(values(loaded), (std::vector<double>{0.5, 0.25}));
}

}  // namespace
}  // namespace osprey::optim
