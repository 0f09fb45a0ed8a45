#include "framework/nn/module.h"

#include <gtest/gtest.h>

#include "framework/nn/nn.h"
#include "ops/ops.h"

namespace osprey::nn {
namespace {

// A two-level model: stem conv + bn, then a head with a linear layer.
class Head : public Module {
 public:
  Head() { fc = register_module("fc", std::make_shared<Linear>(4, 3)); }
  Tensor forward(const Tensor& x) override { return (*fc)(x); }
  std::shared_ptr<Linear> fc;
};

class Tiny : public Module {
 public:
  Tiny() {
    conv = register_module("conv", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2,
                                                                          .out_channels = 4,
                                                                          .kernel_size = {3},
                                                                          .padding = {1},
                                                                          .bias = false}));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 4}));
    head = register_module("head", std::make_shared<Head>());
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = ops::relu((*bn)((*conv)(x)));
    return (*head)(ops::mean(y, {2, 3}));
  }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<Head> head;
};

std::vector<std::string> names_of(const NamedTensors& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : tensors) names.push_back(name);
  return names;
}

TEST(Module, NamesAreDottedPathsInRegistrationOrder) {
  Tiny model;
  EXPECT_EQ(names_of(model.named_parameters()),
            (std::vector<std::string>{"conv.weight", "bn.weight", "bn.bias", "head.fc.weight",
                                      "head.fc.bias"}));
  EXPECT_EQ(
      names_of(model.named_buffers()),
      (std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}));
  EXPECT_EQ(model.parameter_count(), 4 * 2 * 9 + 4 + 4 + 12 + 3);
  std::vector<std::string> modules;
  for (auto& [name, module] : model.named_modules()) modules.push_back(name);
  EXPECT_EQ(modules, (std::vector<std::string>{"", "conv", "bn", "head", "head.fc"}));
  EXPECT_EQ(&model.submodule("head.fc"), model.head->fc.get());
  EXPECT_THROW(model.submodule("head.nope"), Error);
}

TEST(Module, StateDictRoundTripsAndLoadCopiesInPlace) {
  random::manual_seed(1);
  Tiny a;
  random::manual_seed(2);
  Tiny b;
  Tensor b_weight = b.conv->weight;  // an optimiser would hold this handle
  EXPECT_NE(a.conv->weight.to_vector<float>(), b_weight.to_vector<float>());
  const LoadReport report = b.load_state_dict(a.state_dict());
  EXPECT_EQ(report.loaded.size(), 8u);
  EXPECT_TRUE(b_weight.is_same(b.conv->weight));
  EXPECT_EQ(a.conv->weight.to_vector<float>(), b_weight.to_vector<float>());
  EXPECT_EQ(a.head->fc.get()->bias.to_vector<float>(), b.head->fc->bias.to_vector<float>());
  EXPECT_TRUE(b.conv->weight.requires_grad());
}

TEST(Module, LoadErrorsNameTheTensorAndLeaveTheModelUntouched) {
  Tiny model;
  const std::vector<float> before = model.conv->weight.to_vector<float>();
  NamedTensors state = model.state_dict();
  state[0].second = ops::zeros({4, 2, 3, 3});
  for (auto& [name, tensor] : state)
    if (name == "head.fc.weight") tensor = ops::zeros({3, 5});
  try {
    model.load_state_dict(state);
    FAIL() << "expected a shape error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("head.fc.weight"), std::string::npos) << message;
    EXPECT_NE(message.find("[3, 5]"), std::string::npos) << message;
    EXPECT_NE(message.find("[3, 4]"), std::string::npos) << message;
  }
  EXPECT_EQ(model.conv->weight.to_vector<float>(), before);

  const NamedTensors full = model.state_dict();
  NamedTensors partial(full.begin(), full.begin() + 2);
  partial.emplace_back("extra.weight", ops::zeros({1}));
  EXPECT_THROW(model.load_state_dict(partial), Error);
  const LoadReport report = model.load_state_dict(partial, /*strict=*/false);
  EXPECT_EQ(report.loaded.size(), 2u);
  EXPECT_EQ(report.missing.size(), 6u);
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.weight"});
}

TEST(Module, TrainEvalReachesEveryChildAndBatchNormUsesTheRightStatistics) {
  Tiny model;
  Tensor x = ops::normal({3, 2, 5, 5});
  model(x);
  EXPECT_EQ(model.bn->num_batches_tracked.item<int64_t>(), 1);
  const std::vector<float> mean_after_one = model.bn->running_mean.to_vector<float>();
  model.eval();
  EXPECT_FALSE(model.head->fc->is_training());
  Tensor y1 = model(x);
  EXPECT_EQ(model.bn->running_mean.to_vector<float>(), mean_after_one);
  EXPECT_EQ(model.bn->num_batches_tracked.item<int64_t>(), 1);
  EXPECT_EQ(model(x).to_vector<float>(), y1.to_vector<float>());
}

TEST(Module, BackwardReachesEveryParameter) {
  Tiny model;
  Tensor loss = ops::sum(model(ops::normal({2, 2, 4, 4})));
  loss.backward();
  for (auto& [name, tensor] : model.named_parameters())
    EXPECT_TRUE(tensor.grad().defined()) << name;
  model.zero_grad();
  for (auto& [name, tensor] : model.named_parameters())
    EXPECT_FALSE(tensor.grad().defined()) << name;
}

TEST(Module, ToDtypeConvertsFloatingTensorsOnly) {
  Tiny model;
  model.to(DType::f64);
  for (auto& [name, tensor] : model.named_parameters()) {
    EXPECT_EQ(tensor.dtype(), DType::f64) << name;
    EXPECT_TRUE(tensor.requires_grad()) << name;
    EXPECT_TRUE(tensor.is_leaf()) << name;
  }
  EXPECT_EQ(model.bn->num_batches_tracked.dtype(), DType::i64);
  EXPECT_EQ(model(ops::normal({2, 2, 4, 4}, 0, 1, random::default_generator(), DType::f64)).dtype(),
            DType::f64);
}

TEST(Module, ForwardHooksSeeInputAndOutput) {
  Linear layer(2, 2);
  int calls = 0;
  const int id = layer.add_forward_hook([&](Module& m, const Tensor& in, const Tensor& out) {
    ++calls;
    EXPECT_EQ(&m, &layer);
    EXPECT_EQ(in.shape(), (Shape{1, 2}));
    EXPECT_EQ(out.shape(), (Shape{1, 2}));
  });
  layer(ops::ones({1, 2}));
  layer.remove_forward_hook(id);
  layer(ops::ones({1, 2}));
  EXPECT_EQ(calls, 1);
}

TEST(Layers, ConvAndLinearMatchTheirOps) {
  Conv2d conv(Conv2dOptions{.in_channels = 4,
                            .out_channels = 6,
                            .kernel_size = {3, 1},
                            .stride = {2},
                            .padding = {1, 0},
                            .groups = 2});
  EXPECT_EQ(conv.weight.shape(), (Shape{6, 2, 3, 1}));
  Tensor x = ops::normal({2, 4, 7, 5});
  EXPECT_EQ(conv(x).to_vector<float>(),
            ops::conv2d(x, conv.weight, conv.bias, {2, 2}, {1, 0}, {1, 1}, 2).to_vector<float>());
  EXPECT_THROW(Conv2d(Conv2dOptions{.in_channels = 3, .out_channels = 4, .groups = 2}), Error);
  Linear fc(5, 3, /*bias=*/false);
  EXPECT_FALSE(fc.bias.defined());
  EXPECT_EQ(fc.named_parameters().size(), 1u);
  EXPECT_THROW(fc(ops::ones({2, 4})), Error);
}

TEST(Layers, FrozenBatchNormIsTheFoldedAffine) {
  FrozenBatchNorm2d bn(2, 0.5);
  bn.weight = Tensor::from_vector<float>({2.0f, 3.0f}, {2});
  bn.running_mean = Tensor::from_vector<float>({1.0f, -1.0f}, {2});
  bn.running_var = Tensor::from_vector<float>({3.5f, 1.5f}, {2});
  bn.bias = Tensor::from_vector<float>({0.5f, 0.0f}, {2});
  EXPECT_TRUE(bn.named_parameters().empty());
  Tensor x = Tensor::from_vector<float>({3.0f, 1.0f}, {1, 2, 1, 1});
  // (3 - 1) * 2 / sqrt(4) + 0.5 = 2.5;  (1 + 1) * 3 / sqrt(2) + 0
  const std::vector<float> y = bn(x).to_vector<float>();
  EXPECT_FLOAT_EQ(y[0], 2.5f);
  EXPECT_FLOAT_EQ(y[1], 6.0f / std::sqrt(2.0f));
}

TEST(Layers, SequentialAppliesInOrderAndNamesByIndex) {
  Sequential seq;
  seq.add(std::make_shared<Linear>(3, 4));
  seq.add(std::make_shared<ReLU>());
  seq.add("out", std::make_shared<Linear>(4, 2));
  EXPECT_EQ(names_of(seq.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "out.weight", "out.bias"}));
  Tensor x = ops::normal({5, 3});
  Tensor expected = seq[2](ops::relu(seq[0](x)));
  EXPECT_EQ(seq(x).to_vector<float>(), expected.to_vector<float>());
}

TEST(Init, KaimingNormalHasTheRightSpreadAndFollowsTheSeed) {
  Tensor w = Tensor::empty({64, 32, 3, 3});
  random::Generator g1(7), g2(7);
  init::kaiming_normal_(w, init::FanMode::fan_out, "relu", 0.0, g1);
  const std::vector<float> v = w.to_vector<float>();
  double sum = 0, sq = 0;
  for (float x : v) sum += x, sq += double(x) * x;
  const double mean = sum / v.size(), var = sq / v.size() - mean * mean;
  EXPECT_NEAR(std::sqrt(var), std::sqrt(2.0 / (64 * 9)), 0.003);
  Tensor w2 = Tensor::empty({64, 32, 3, 3});
  init::kaiming_normal_(w2, init::FanMode::fan_out, "relu", 0.0, g2);
  EXPECT_EQ(w2.to_vector<float>(), v);
  EXPECT_THROW(init::gain("swish"), Error);
  EXPECT_EQ(init::compute_fans(w).fan_in, 32 * 9);
}

}  // namespace
}  // namespace osprey::nn
