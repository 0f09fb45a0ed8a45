// CUDA kernels of the CNN ops on what their small case lists do not reach: network-sized shapes
// (cuDNN's algorithm choice, many blocks per launch), the layout of channels-last outputs, f16
// convolutions, running-stat updates on the device, overlapping pooling windows and bins, long
// cross-entropy rows. Each compares with the CPU reference kernel on the same values; ops without
// a CUDA kernel in this build are skipped.
#include <gtest/gtest.h>

#include <random>

#include "framework/dispatch/registry.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Attrs;
using Ints = std::vector<int64_t>;

Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(static_cast<float>(lo), static_cast<float>(hi));
  std::vector<float> values(shape_numel(shape));
  for (auto& v : values) v = dist(rng);
  return Tensor::from_vector(values, shape);
}

bool has_cuda_kernel(const std::string& op) {
  auto& registry = dispatch::Registry::instance();
  return registry.has_op(op) && !registry.kernels(op, DeviceType::cuda).empty();
}

std::vector<Tensor> cpu_reference(const std::string& op, const std::vector<Tensor>& inputs,
                                  const Attrs& attrs) {
  auto& registry = dispatch::Registry::instance();
  registry.set_override(op, DeviceType::cpu, "reference");
  auto out = dispatch::call(op, inputs, attrs);
  registry.clear_override(op, DeviceType::cpu);
  return out;
}

// The same values on the GPU, keeping the layout (to() keeps channels-last strides or not: make
// the copy explicitly).
Tensor on_gpu(const Tensor& t) {
  if (!t.defined()) return t;
  Tensor out = Tensor::empty(
      t.shape(), t.dtype(), Device::cuda(),
      t.dim() == 4 && t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous()
          ? MemoryFormat::channels_last
          : MemoryFormat::contiguous);
  out.copy_(t);
  return out;
}

// Runs `op` on the CPU reference and on CUDA and compares every output; returns the CUDA outputs.
std::vector<Tensor> expect_parity(const std::string& op, const std::vector<Tensor>& inputs,
                                  const Attrs& attrs,
                                  testing::Tolerance tol = testing::tolerance_for(DType::f32)) {
  auto expected = cpu_reference(op, inputs, attrs);
  std::vector<Tensor> gpu_inputs;
  for (const auto& t : inputs) gpu_inputs.push_back(on_gpu(t));
  auto actual = dispatch::call(op, gpu_inputs, attrs);
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    EXPECT_TRUE(actual[i].device().is_cuda()) << op;
    auto message = testing::compare(actual[i], expected[i], tol);
    EXPECT_TRUE(message.empty()) << op << " output " << i << ": " << message;
  }
  return actual;
}

#define SKIP_WITHOUT_KERNEL(op)                                                          \
  do {                                                                                   \
    if (!has_cuda_kernel(op)) GTEST_SKIP() << op << " has no CUDA kernel in this build"; \
  } while (0)

Attrs conv_attrs(Ints stride, Ints padding, Ints dilation = {1, 1}, int64_t groups = 1) {
  return {{"stride", stride}, {"padding", padding}, {"dilation", dilation}, {"groups", groups}};
}

TEST(CudaCnnOps, Conv2dNetworkShapes) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("conv2d");
  const Tensor x = random_tensor({4, 32, 28, 28}, 1),
               w = random_tensor({64, 32, 3, 3}, 2, -0.2, 0.2);
  const Tensor b = random_tensor({64}, 3);
  for (int64_t stride : {1, 2}) {
    const Attrs attrs = conv_attrs({stride, stride}, {1, 1});
    auto y = expect_parity("conv2d", {x, w, b}, attrs, {1e-4, 1e-4});
    Attrs bin = attrs;
    bin.set("input_size", x.shape());
    expect_parity("conv2d_backward_input", {y[0].cpu(), w}, bin, {1e-4, 1e-4});
    Attrs bw = attrs;
    bw.set("weight_size", w.shape());
    expect_parity("conv2d_backward_weight", {y[0].cpu(), x}, bw, {1e-3, 1e-4});
  }
}

TEST(CudaCnnOps, Conv2dChannelsLastStaysChannelsLast) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("conv2d");
  const Tensor x = random_tensor({2, 16, 12, 12}, 4).contiguous(MemoryFormat::channels_last);
  const Tensor w = random_tensor({24, 16, 3, 3}, 5, -0.3, 0.3);
  const Attrs attrs = conv_attrs({1, 1}, {1, 1});
  auto y = expect_parity("conv2d", {x, w, random_tensor({24}, 6)}, attrs, {1e-4, 1e-4});
  EXPECT_TRUE(y[0].is_contiguous(MemoryFormat::channels_last)) << y[0].describe();
  Attrs bin = attrs;
  bin.set("input_size", x.shape());
  const Tensor g = random_tensor({2, 24, 12, 12}, 7).contiguous(MemoryFormat::channels_last);
  auto dx = expect_parity("conv2d_backward_input", {g, w}, bin, {1e-4, 1e-4});
  EXPECT_TRUE(dx[0].is_contiguous(MemoryFormat::channels_last)) << dx[0].describe();
  Attrs bw = attrs;
  bw.set("weight_size", w.shape());
  auto dw = expect_parity("conv2d_backward_weight", {g, x}, bw, {1e-3, 1e-4});
  EXPECT_TRUE(dw[0].is_contiguous()) << dw[0].describe();
}

TEST(CudaCnnOps, Conv2dGroupedAndDilatedChannelsLast) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("conv2d");
  const Tensor x = random_tensor({2, 8, 10, 10}, 8).contiguous(MemoryFormat::channels_last);
  expect_parity("conv2d", {x, random_tensor({8, 2, 3, 3}, 9), {}},
                conv_attrs({1, 1}, {2, 2}, {2, 2}, 4), {1e-4, 1e-4});
}

TEST(CudaCnnOps, Conv2dHalfMatchesFloatLoosely) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("conv2d");
  const Tensor x = random_tensor({2, 16, 10, 10}, 10),
               w = random_tensor({16, 16, 3, 3}, 11, -0.2, 0.2);
  const Attrs attrs = conv_attrs({1, 1}, {1, 1});
  auto expected = cpu_reference("conv2d", {x, w, Tensor()}, attrs);
  auto actual = dispatch::call(
      "conv2d", {x.to(Device::cuda(), DType::f16), w.to(Device::cuda(), DType::f16), Tensor()},
      attrs);
  ASSERT_EQ(actual[0].dtype(), DType::f16);
  auto message = testing::compare(actual[0].to(DType::f32), expected[0], {2e-2, 2e-2});
  EXPECT_TRUE(message.empty()) << message;
}

TEST(CudaCnnOps, Conv2dBackwardWeightOfEmptyBatchIsZero) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("conv2d_backward_weight");
  Attrs attrs = conv_attrs({1, 1}, {0, 0});
  attrs.set("weight_size", Ints{3, 2, 3, 3});
  auto dw = dispatch::call("conv2d_backward_weight",
                           {Tensor::empty({0, 3, 3, 3}, DType::f32, Device::cuda()),
                            Tensor::empty({0, 2, 5, 5}, DType::f32, Device::cuda())},
                           attrs);
  for (float v : dw[0].to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(CudaCnnOps, BatchNormTrainingUpdatesRunningStatsLikeCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("batch_norm");
  for (bool channels_last : {false, true}) {
    Tensor x = random_tensor({8, 64, 14, 14}, 12, -2, 3);
    if (channels_last) x = x.contiguous(MemoryFormat::channels_last);
    const Tensor weight = random_tensor({64}, 13), bias = random_tensor({64}, 14);
    const Tensor rm_cpu = random_tensor({64}, 15), rv_cpu = random_tensor({64}, 16, 0.5, 2);
    const Tensor rm_gpu = on_gpu(rm_cpu), rv_gpu = on_gpu(rv_cpu);
    const Attrs attrs{{"training", true}, {"momentum", 0.1}, {"eps", 1e-5}};
    auto expected = cpu_reference("batch_norm", {x, weight, bias, rm_cpu, rv_cpu}, attrs);
    auto actual = dispatch::call("batch_norm",
                                 {on_gpu(x), on_gpu(weight), on_gpu(bias), rm_gpu, rv_gpu}, attrs);
    for (size_t i = 0; i < expected.size(); ++i) {
      auto message = testing::compare(actual[i], expected[i], {1e-4, 1e-4});
      EXPECT_TRUE(message.empty()) << "output " << i << ": " << message;
    }
    EXPECT_TRUE(testing::compare(rm_gpu, rm_cpu, {1e-5, 1e-4}).empty());
    EXPECT_TRUE(testing::compare(rv_gpu, rv_cpu, {1e-5, 1e-4}).empty());
    if (channels_last) {
      EXPECT_TRUE(actual[0].is_contiguous(MemoryFormat::channels_last));
    }
    const Tensor g = random_tensor({8, 64, 14, 14}, 17);
    expect_parity("batch_norm_backward", {g, x, weight, expected[1], expected[2]},
                  Attrs{{"training", true}, {"eps", 1e-5}}, {1e-4, 1e-4});
  }
}

TEST(CudaCnnOps, PoolingNetworkShapes) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("max_pool2d");
  const Tensor x = random_tensor({4, 16, 33, 33}, 18);
  const Attrs max_attrs{{"kernel_size", Ints{3}}, {"stride", Ints{2}}, {"padding", Ints{1}}};
  auto pooled = expect_parity("max_pool2d", {x}, max_attrs);
  const Tensor g = random_tensor(pooled[0].shape(), 19);
  expect_parity("max_pool2d_backward", {g, pooled[1].cpu()}, Attrs{{"input_size", x.shape()}},
                {1e-5, 1e-4});
  const Attrs avg_attrs{{"kernel_size", Ints{3}},
                        {"stride", Ints{2}},
                        {"padding", Ints{1}},
                        {"ceil_mode", true},
                        {"count_include_pad", false}};
  auto avg = expect_parity("avg_pool2d", {x}, avg_attrs);
  Attrs avg_back = avg_attrs;
  avg_back.set("input_size", x.shape());
  expect_parity("avg_pool2d_backward", {random_tensor(avg[0].shape(), 20)}, avg_back);
  for (const Ints& size : {Ints{1, 1}, Ints{5, 7}}) {
    auto ad = expect_parity("adaptive_avg_pool2d", {x}, Attrs{{"output_size", size}});
    expect_parity("adaptive_avg_pool2d_backward", {random_tensor(ad[0].shape(), 21)},
                  Attrs{{"input_size", x.shape()}});
  }
}

TEST(CudaCnnOps, CrossEntropyLongRows) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("cross_entropy");
  std::vector<int64_t> labels(64);
  for (int64_t i = 0; i < 64; ++i) labels[i] = i % 7 == 0 ? -100 : (i * 37) % 1000;
  const Tensor target = Tensor::from_vector<int64_t>(labels, {64});
  const Tensor logits = random_tensor({64, 1000}, 22, -4, 4);
  const Attrs attrs{{"ignore_index", int64_t{-100}},
                    {"label_smoothing", 0.1},
                    {"reduction", std::string("mean")}};
  expect_parity("cross_entropy", {logits, target, Tensor()}, attrs);
  expect_parity("cross_entropy_backward", {Tensor::scalar<float>(1.5f), logits, target, Tensor()},
                attrs);
}

}  // namespace
}  // namespace osprey
