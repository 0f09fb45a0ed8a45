// roi_align and roi_pool on the GPU: values against the CPU reference on detection-head shapes
// (many RoIs per image, unsorted, some over the map's edges), and the deterministic backward
// kernels giving bitwise equal gradients on two runs. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/roi_cases.h"
#include "ops/roi_align/roi_align.h"
#include "ops/roi_pool/roi_pool.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

struct Operands {
  Tensor input, rois, grad;
};

Operands head_operands(DType dtype, bool channels_last) {
  ops::CaseRandom rng(21);
  Operands o;
  o.input = rng.uniform({3, 40, 20, 18}, dtype);
  if (channels_last) o.input = o.input.contiguous(MemoryFormat::channels_last);
  o.rois = ops::case_rois(rng, 150, 3, 20, 18, 1.0 / 16, dtype);
  o.grad = rng.uniform({150, 40, 7, 7}, dtype);
  return o;
}

TEST(RoiAlignCuda, MatchesCpuReferenceOnAHeadShape) {
  OSPREY_SKIP_WITHOUT_GPU();
  for (bool channels_last : {false, true}) {
    for (int64_t sampling : {2, -1}) {
      const Operands o = head_operands(DType::f32, channels_last);
      dispatch::Registry::instance().set_override("roi_align", DeviceType::cpu, "reference");
      dispatch::Registry::instance().set_override("roi_align_backward", DeviceType::cpu,
                                                  "reference");
      Tensor want = ops::roi_align(o.input, o.rois, {7}, 1.0 / 16, sampling, true);
      Tensor want_grad =
          ops::roi_align_backward(o.grad, o.rois, o.input.shape(), {7}, 1.0 / 16, sampling, true);
      dispatch::Registry::instance().clear_override("roi_align", DeviceType::cpu);
      dispatch::Registry::instance().clear_override("roi_align_backward", DeviceType::cpu);
      Tensor got = ops::roi_align(o.input.to(Device::cuda()), o.rois.to(Device::cuda()), {7},
                                  1.0 / 16, sampling, true);
      Tensor got_grad =
          ops::roi_align_backward(o.grad.to(Device::cuda()), o.rois.to(Device::cuda()),
                                  o.input.shape(), {7}, 1.0 / 16, sampling, true);
      const auto tol = testing::tolerance_for(DType::f32);
      EXPECT_EQ(testing::compare(got.cpu(), want, tol), "");
      EXPECT_EQ(testing::compare(got_grad.cpu(), want_grad, tol), "");
    }
  }
}

TEST(RoiAlignCuda, BackwardIsBitwiseDeterministic) {
  OSPREY_SKIP_WITHOUT_GPU();
  const Operands o = head_operands(DType::f32, false);
  const Tensor grad = o.grad.to(Device::cuda()), rois = o.rois.to(Device::cuda());
  auto run = [&] {
    return ops::roi_align_backward(grad, rois, o.input.shape(), {7}, 1.0 / 16, 2, true)
        .to_vector<float>();
  };
  const auto a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(RoiPoolCuda, MatchesCpuAndBackwardIsDeterministic) {
  OSPREY_SKIP_WITHOUT_GPU();
  const Operands o = head_operands(DType::f32, false);
  auto [want, want_idx] = ops::roi_pool(o.input, o.rois, {7}, 1.0 / 16);
  Tensor want_grad = ops::roi_pool_backward(o.grad, o.rois, want_idx, o.input.shape());
  const Tensor rois = o.rois.to(Device::cuda());
  auto [got, got_idx] = ops::roi_pool(o.input.to(Device::cuda()), rois, {7}, 1.0 / 16);
  EXPECT_EQ(testing::compare(got.cpu(), want, testing::tolerance_for(DType::f32)), "");
  EXPECT_EQ(got_idx.to_vector<int64_t>(), want_idx.to_vector<int64_t>());
  const Tensor grad = o.grad.to(Device::cuda());
  const auto a = ops::roi_pool_backward(grad, rois, got_idx, o.input.shape()).to_vector<float>();
  const auto b = ops::roi_pool_backward(grad, rois, got_idx, o.input.shape()).to_vector<float>();
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  auto g = Tensor::from_vector<float>(a, o.input.shape());
  EXPECT_EQ(testing::compare(g, want_grad, testing::tolerance_for(DType::f32)), "");
}

// The backward ops on CUDA check RoI values on the host copy their kernels make to group RoIs by
// image (validate skips its own copy): bad RoIs give the CPU call's message.
TEST(RoiBackwardCuda, BadRoisGiveTheCpuErrors) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto message = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const Error& e) {
      const std::string what = e.what();
      const size_t at = what.find("roi_");
      return at == std::string::npos ? what : what.substr(at);
    }
    return std::string("no error");
  };
  const Tensor grad =
      Tensor::from_vector<float>(std::vector<float>(3 * 2 * 2 * 2, 1.0f), {3, 2, 2, 2});
  const Tensor argmax =
      Tensor::from_vector<int64_t>(std::vector<int64_t>(3 * 2 * 2 * 2, 0), {3, 2, 2, 2});
  const std::vector<std::vector<float>> bad = {
      {0, 1, 1, 6, 6, 1, 1, 1, 6, 6, 2, 1, 1, 6, 6},               // batch index 2 of 2 images
      {0, 1, 1, 6, 6, 1, 5, 1, 2, 6, 0, 1, 1, 6, 6},               // x1 > x2
      {0, 1, 1, 6, 6, 0, 1, 1, 6, 6, 0.5f, 1, 1, 6, 6},            // fractional batch index
      {0, 1, 1, 6, 6, 0, 1, 1, std::nanf(""), 6, 0, 1, 1, 6, 6}};  // NaN
  for (const auto& v : bad) {
    const Tensor rois = Tensor::from_vector<float>(v, {3, 5});
    const auto align = [&](const Tensor& g, const Tensor& r) {
      ops::roi_align_backward(g, r, {2, 2, 8, 8}, {2, 2}, 1.0, 2, false);
    };
    const std::string cpu = message([&] { align(grad, rois); });
    ASSERT_NE(cpu, "no error");
    EXPECT_EQ(message([&] { align(grad.to(Device::cuda()), rois.to(Device::cuda())); }), cpu);
    const auto pool = [&](const Tensor& g, const Tensor& r, const Tensor& m) {
      ops::roi_pool_backward(g, r, m, {2, 2, 8, 8});
    };
    const std::string cpu_pool = message([&] { pool(grad, rois, argmax); });
    ASSERT_NE(cpu_pool, "no error");
    EXPECT_EQ(message([&] {
                pool(grad.to(Device::cuda()), rois.to(Device::cuda()), argmax.to(Device::cuda()));
              }),
              cpu_pool);
  }
}

}  // namespace
}  // namespace osprey
