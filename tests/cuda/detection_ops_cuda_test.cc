// CUDA kernels of deformable_roi_pool and the detection losses on SNIPER-sized problems that
// their small case lists do not reach (128 RoIs on a 32 x 32 stride-16 map, thousands of loss
// elements), against the CPU reference on the same values, and the determinism of
// deformable_roi_pool's backward (no float atomics: two runs, and the device-built and
// host-built sample lists, give identical bits). Skips without a GPU or when an op has no CUDA
// kernel in this build.
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

// Labels in {0, 1} (or -100 every `ignore_every`-th position for cross_entropy targets).
Tensor random_labels(const Shape& shape, uint64_t seed, int64_t classes, DType dtype) {
  std::mt19937_64 rng(seed);
  std::vector<double> values(shape_numel(shape));
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = i % 11 == 5 && dtype == DType::i64 ? -100.0 : static_cast<double>(rng() % classes);
  }
  return Tensor::from_vector(values, shape).to(dtype);
}

// SNIPER's RCNN RoIs: boxes inside a 512 x 512 chip, batch indices over `batch` chips.
Tensor sniper_rois(int64_t count, int64_t batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> v;
  for (int64_t k = 0; k < count; ++k) {
    const float x1 = unit(rng) * 400, y1 = unit(rng) * 400;
    v.insert(v.end(), {static_cast<float>(k % batch), x1, y1, x1 + 8 + unit(rng) * 200,
                       y1 + 8 + unit(rng) * 200});
  }
  return Tensor::from_vector(v, {count, 5});
}

bool has_cuda_kernel(const std::string& op) {
  auto& registry = dispatch::Registry::instance();
  return registry.has_op(op) && !registry.kernels(op, DeviceType::cuda).empty();
}

#define SKIP_WITHOUT_KERNEL(op)                                                          \
  do {                                                                                   \
    if (!has_cuda_kernel(op)) GTEST_SKIP() << op << " has no CUDA kernel in this build"; \
  } while (0)

std::vector<Tensor> on_gpu(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (const auto& t : inputs) out.push_back(t.defined() ? t.to(Device::cuda()) : t);
  return out;
}

// Runs `op` on the CPU reference and on CUDA and compares every output; returns the CUDA outputs.
std::vector<Tensor> expect_parity(const std::string& op, const std::vector<Tensor>& inputs,
                                  const Attrs& attrs) {
  auto& registry = dispatch::Registry::instance();
  registry.set_override(op, DeviceType::cpu, "reference");
  auto expected = dispatch::call(op, inputs, attrs);
  registry.clear_override(op, DeviceType::cpu);
  auto actual = dispatch::call(op, on_gpu(inputs), attrs);
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    EXPECT_TRUE(actual[i].device().is_cuda()) << op;
    auto message = testing::compare(actual[i], expected[i], testing::tolerance_for(DType::f32));
    EXPECT_TRUE(message.empty()) << op << " output " << i << ": " << message;
  }
  return actual;
}

Attrs pool_attrs() {
  return {{"output_size", Ints{7, 7}},
          {"spatial_scale", 1.0 / 16},
          {"sample_per_part", int64_t{4}},
          {"trans_std", 0.1}};
}

TEST(CudaDetectionOps, DeformableRoiPoolSniperHead) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("deformable_roi_pool");
  const Tensor x = random_tensor({2, 64, 32, 32}, 1);
  const Tensor rois = sniper_rois(128, 2, 2);
  const Tensor offset = random_tensor({128, 2, 7, 7}, 3, -0.5, 0.5);
  for (const Tensor& off : {Tensor(), offset}) {
    auto out = expect_parity("deformable_roi_pool", {x, rois, off}, pool_attrs());
    const Tensor grad = random_tensor(out[0].shape(), 4);
    auto first = expect_parity("deformable_roi_pool_backward", {grad, x, rois, off}, pool_attrs());
    auto again =
        dispatch::call("deformable_roi_pool_backward", on_gpu({grad, x, rois, off}), pool_attrs());
    // The host-built lists list the same slots in the same order: identical bits too.
    auto& registry = dispatch::Registry::instance();
    registry.set_override("deformable_roi_pool_backward", DeviceType::cuda, "host_lists");
    auto host =
        dispatch::call("deformable_roi_pool_backward", on_gpu({grad, x, rois, off}), pool_attrs());
    registry.clear_override("deformable_roi_pool_backward", DeviceType::cuda);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(first[i].to_vector<float>(), again[i].to_vector<float>())
          << "backward output " << i << " differs between two runs";
      EXPECT_EQ(first[i].to_vector<float>(), host[i].to_vector<float>())
          << "backward output " << i << ": device-built and host-built lists differ";
    }
  }
}

TEST(CudaDetectionOps, DeformableRoiPoolEdges) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("deformable_roi_pool");
  const Tensor x = random_tensor({1, 8, 10, 12}, 5);
  // Zero RoIs.
  const Tensor none = Tensor::empty({0, 5});
  auto out =
      expect_parity("deformable_roi_pool", {x, none, Tensor::empty({0, 2, 7, 7})}, pool_attrs());
  EXPECT_EQ(out[0].shape(), Shape({0, 8, 7, 7}));
  expect_parity("deformable_roi_pool_backward",
                {Tensor::empty({0, 8, 7, 7}), x, none, Tensor::empty({0, 2, 7, 7})}, pool_attrs());
  // RoIs over and past the map's edges (skipped and clamped samples), large offsets.
  const Tensor rois = Tensor::from_vector<float>(
      {0, 150, 100, 260, 200, 0, 300, 300, 400, 400, 0, -40, -40, 20, 30}, {3, 5});
  const Tensor offset = random_tensor({3, 2, 7, 7}, 6, -3, 3);
  expect_parity("deformable_roi_pool", {x, rois, offset}, pool_attrs());
  expect_parity("deformable_roi_pool_backward", {random_tensor({3, 8, 7, 7}, 7), x, rois, offset},
                pool_attrs());
}

TEST(CudaDetectionOps, LossesLarge) {
  OSPREY_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_KERNEL("smooth_l1_loss");
  SKIP_WITHOUT_KERNEL("sigmoid_focal_loss");
  SKIP_WITHOUT_KERNEL("cross_entropy");
  // Box regression: 2048 RoIs x 4 with bbox weights, SNIPER's beta = 1.
  const Tensor pred = random_tensor({2048, 4}, 8, -2, 2), target = random_tensor({2048, 4}, 9);
  const Tensor bbox_weight = random_labels({2048, 4}, 10, 2, DType::f32);
  for (const char* reduction : {"none", "sum", "mean"}) {
    const Attrs attrs{{"beta", 1.0}, {"reduction", std::string(reduction)}};
    auto out = expect_parity("smooth_l1_loss", {pred, target, bbox_weight}, attrs);
    expect_parity("smooth_l1_loss_backward",
                  {random_tensor(out[0].shape(), 11), pred, target, bbox_weight}, attrs);
  }
  // Dense anchors: 8 images x 9 anchors x 32 x 32 logits, focal and plain cross-entropy.
  const Tensor logits = random_tensor({8, 9, 32, 32}, 12, -5, 5);
  const Tensor labels = random_labels({8, 9, 32, 32}, 13, 2, DType::f32);
  const Tensor weights = random_tensor({8, 9, 32, 32}, 14, 0, 1);
  for (double gamma : {0.0, 2.0}) {
    const Attrs attrs{{"alpha", gamma == 0.0 ? -1.0 : 0.25},
                      {"gamma", gamma},
                      {"reduction", std::string("mean")}};
    expect_parity("sigmoid_focal_loss", {logits, labels, weights}, attrs);
    expect_parity("sigmoid_focal_loss_backward",
                  {Tensor::scalar<float>(2.0f), logits, labels, weights}, attrs);
  }
  // RCNN classification: 2048 RoIs x 21 classes, per-RoI weights, normalisation 'valid'.
  const Tensor scores = random_tensor({2048, 21}, 15, -4, 4);
  const Tensor classes = random_labels({2048}, 16, 21, DType::i64);
  const Tensor roi_weights = random_tensor({2048}, 17, 0, 2);
  for (const char* reduction : {"valid", "mean", "none"}) {
    const Attrs attrs{{"ignore_index", int64_t{-100}},
                      {"label_smoothing", 0.0},
                      {"reduction", std::string(reduction)}};
    auto out = expect_parity("cross_entropy", {scores, classes, Tensor(), roi_weights}, attrs);
    expect_parity("cross_entropy_backward",
                  {random_tensor(out[0].shape(), 18), scores, classes, Tensor(), roi_weights},
                  attrs);
  }
}

}  // namespace
}  // namespace osprey
