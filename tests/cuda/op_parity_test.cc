// Every op with a CUDA kernel, driven through its own case list (f32): each CUDA kernel's outputs
// against the CPU reference, and the gradients that backward computes on the GPU (every backward
// op dispatched to CUDA kernels) against those computed on the CPU. Inputs keep their layout on
// the GPU (non-contiguous cases stay non-contiguous). Skips without a GPU.
#include <gtest/gtest.h>

#include <random>

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/backend.h"
#include "framework/dispatch/registry.h"
#include "tests/support/op_test_support.h"

namespace osprey {
namespace {

using dispatch::Registry;

// The same storage bytes, shape, strides and offset on the GPU.
Tensor to_cuda_same_layout(const Tensor& t) {
  if (!t.defined() || t.device().is_cuda()) return t;
  size_t nbytes = t.storage()->nbytes();
  auto storage = std::make_shared<Storage>(nbytes, Device::cuda());
  backend(DeviceType::cuda)
      .copy(storage->data(), Device::cuda(), t.storage()->data(), Device::cpu(), nbytes);
  return Tensor::from_storage(storage, t.shape(), t.strides(), t.offset(), t.dtype());
}

std::vector<Tensor> on_cuda(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (const auto& t : inputs) out.push_back(to_cuda_same_layout(t));
  return out;
}

std::string describe_case(const dispatch::OpCase& c) {
  std::string s = c.name + " (";
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    s += (i ? ", " : "") + (c.inputs[i].defined() ? c.inputs[i].describe() : std::string("none"));
  }
  return s + ")";
}

// Restores the kernel choice of an op however the test leaves.
struct OverrideScope {
  std::string op;
  ~OverrideScope() {
    Registry::instance().clear_override(op, DeviceType::cpu);
    Registry::instance().clear_override(op, DeviceType::cuda);
  }
};

class CudaParity : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaParity, ForwardMatchesCpuReference) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto& registry = Registry::instance();
  const std::string& op = GetParam();
  OverrideScope scope{op};
  const auto& def = registry.op(op);
  for (const auto& c : def.cases(DType::f32, 11)) {
    registry.set_override(op, DeviceType::cpu, "reference");
    std::vector<Tensor> expected;
    try {
      expected = dispatch::call(op, c.inputs, c.attrs);
    } catch (const Error& e) {
      ADD_FAILURE() << "cpu reference failed on " << describe_case(c) << ": " << e.what();
      continue;
    }
    std::vector<Tensor> inputs = on_cuda(c.inputs);
    for (const auto* k : registry.kernels(op, DeviceType::cuda)) {
      registry.set_override(op, DeviceType::cuda, k->impl);
      std::vector<Tensor> actual;
      try {
        actual = dispatch::call(op, inputs, c.attrs);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::not_found) continue;  // supports() declined this case
        ADD_FAILURE() << k->key() << " failed on " << describe_case(c) << ": " << e.what();
        continue;
      }
      ASSERT_EQ(actual.size(), expected.size());
      for (size_t o = 0; o < expected.size(); ++o) {
        auto tol = testing::tolerance_for(expected[o].dtype());
        auto message = testing::compare(actual[o], expected[o], tol);
        EXPECT_TRUE(message.empty())
            << k->key() << " case " << describe_case(c) << " output " << o << ": " << message;
      }
    }
  }
}

// d(sum(w * outputs))/d(inputs) for fixed random weights w, computed on `device`.
std::vector<Tensor> weighted_gradients(const std::string& op, const dispatch::OpCase& c,
                                       const std::vector<Tensor>& weights, bool cuda) {
  const auto& def = Registry::instance().op(op);
  std::vector<Tensor> inputs, leaves;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Tensor t = c.inputs[i];
    if (t.defined()) t = cuda ? to_cuda_same_layout(t.detach()) : t.detach().clone();
    if (t.defined() && is_floating(t.dtype()) && def.schema.input_spec(i).differentiable) {
      t.set_requires_grad(true);
      leaves.push_back(t);
    }
    inputs.push_back(t);
  }
  std::vector<Tensor> outputs = dispatch::call(op, inputs, c.attrs);
  std::vector<Tensor> roots, grads;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!weights[o].defined() || !outputs[o].requires_grad()) continue;
    roots.push_back(outputs[o]);
    grads.push_back(cuda ? weights[o].to(outputs[o].device()) : weights[o]);
  }
  if (roots.empty() || leaves.empty()) return {};
  std::vector<Tensor> result = autograd::grad(roots, grads, leaves);
  for (auto& g : result) {
    if (g.defined()) g = g.cpu();
  }
  return result;
}

TEST_P(CudaParity, GradientsMatchCpu) {
  OSPREY_SKIP_WITHOUT_GPU();
  auto& registry = Registry::instance();
  const std::string& op = GetParam();
  const auto& def = registry.op(op);
  if (!def.backward) GTEST_SKIP() << op << " is not differentiable";
  std::mt19937_64 rng(5);
  for (const auto& c : def.cases(DType::f32, 13)) {
    if (c.skip_gradcheck) continue;
    std::vector<Tensor> weights;
    try {
      autograd::NoGradGuard no_grad;
      for (const auto& o : dispatch::call(op, c.inputs, c.attrs)) {
        if (!is_floating(o.dtype())) {
          weights.emplace_back();
          continue;
        }
        std::vector<float> w(o.numel());
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        for (auto& v : w) v = dist(rng);
        weights.push_back(Tensor::from_vector(w, o.shape()).to(o.device()));
      }
    } catch (const Error& e) {
      ADD_FAILURE() << "cpu forward failed on " << describe_case(c) << ": " << e.what();
      continue;
    }
    std::vector<Tensor> expected, actual;
    try {
      expected = weighted_gradients(op, c, weights, false);
      actual = weighted_gradients(op, c, weights, true);
    } catch (const Error& e) {
      ADD_FAILURE() << "backward failed on " << describe_case(c) << ": " << e.what();
      continue;
    }
    ASSERT_EQ(actual.size(), expected.size()) << describe_case(c);
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!expected[i].defined()) {
        EXPECT_FALSE(actual[i].defined()) << describe_case(c) << " gradient " << i;
        continue;
      }
      ASSERT_TRUE(actual[i].defined()) << describe_case(c) << " gradient " << i;
      auto message = testing::compare(actual[i], expected[i], {1e-4, 1e-3});
      EXPECT_TRUE(message.empty())
          << "case " << describe_case(c) << " gradient " << i << ": " << message;
    }
  }
}

std::vector<std::string> ops_with_cuda_kernels() {
  std::vector<std::string> names;
  for (const auto& name : Registry::instance().op_names()) {
    if (!Registry::instance().kernels(name, DeviceType::cuda).empty()) names.push_back(name);
  }
  // A CPU-only build has none; keep one entry so the suite exists (and skips).
  if (names.empty()) names.push_back("copy");
  return names;
}

INSTANTIATE_TEST_SUITE_P(CudaOps, CudaParity, ::testing::ValuesIn(ops_with_cuda_kernels()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace osprey
