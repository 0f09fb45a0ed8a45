// init_from (rename, include/exclude, shape mismatches, reports, from a checkpoint file or a run
// directory), freeze patterns and the kernel-override guard.
#include <gtest/gtest.h>

#include <algorithm>

#include "experiments/spec/kernel_overrides.h"
#include "experiments/spec/transfer.h"
#include "framework/core/error.h"
#include "framework/io/checkpoint.h"
#include "framework/io/tensor_proto.h"
#include "framework/nn/layers/linear.h"
#include "framework/nn/layers/sequential.h"
#include "ops/factory/factory.h"
#include "temp_dir.h"

namespace osprey::experiments {
namespace {

using testing::TempDirTest;

struct Head : nn::Module {
  explicit Head(int64_t classes, random::Generator& g) {
    fc = register_module("fc", std::make_shared<nn::Linear>(8, classes, true, g));
  }
  std::shared_ptr<nn::Linear> fc;
};

// `<trunk>.0` Linear(4, 8), `<trunk>.1` Linear(8, 8), `head.fc` Linear(8, classes).
struct Net : nn::Module {
  Net(int64_t classes, uint64_t seed, const std::string& trunk_name = "backbone") {
    random::Generator g(seed);
    trunk = register_module(trunk_name, std::make_shared<nn::Sequential>());
    trunk->add(std::make_shared<nn::Linear>(4, 8, true, g));
    trunk->add(std::make_shared<nn::Linear>(8, 8, true, g));
    head = register_module("head", std::make_shared<Head>(classes, g));
  }
  std::shared_ptr<nn::Sequential> trunk;
  std::shared_ptr<Head> head;
};

std::vector<float> values(const nn::Module& m, const std::string& name) {
  for (const auto& [n, t] : m.state_dict())
    if (n == name) return t.to_vector<float>();
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

proto::InitFrom init_with(std::initializer_list<const char*> include,
                          std::initializer_list<const char*> exclude = {}) {
  proto::InitFrom init;
  for (const char* p : include) init.add_include(p);
  for (const char* p : exclude) init.add_exclude(p);
  return init;
}

TEST(Transfer, BackboneFromAClassifierIntoAModelWithAnotherHead) {
  Net classifier(10, 1);
  Net detector(3, 2);
  const auto before_head = values(detector, "head.fc.weight");
  TransferReport report =
      transfer_tensors(detector, classifier.state_dict(), init_with({"backbone.*"}), "cls");
  EXPECT_EQ(report.matched, (std::vector<std::string>{"backbone.0.weight", "backbone.0.bias",
                                                      "backbone.1.weight", "backbone.1.bias"}));
  EXPECT_EQ(report.skipped_by_pattern,
            (std::vector<std::string>{"head.fc.weight", "head.fc.bias"}));
  EXPECT_TRUE(report.absent_in_model.empty());
  EXPECT_TRUE(report.shape_mismatches.empty());
  EXPECT_EQ(report.not_initialised, (std::vector<std::string>{"head.fc.weight", "head.fc.bias"}));
  for (const char* name : {"backbone.0.weight", "backbone.1.bias"})
    EXPECT_EQ(values(detector, name), values(classifier, name)) << name;
  EXPECT_EQ(values(detector, "head.fc.weight"), before_head);  // untouched
  EXPECT_NE(values(detector, "backbone.0.weight"), values(Net(3, 2), "backbone.0.weight"));
  EXPECT_EQ(report.summary(),
            "init_from cls: 4 matched, 2 skipped by pattern, 0 absent in the model, 0 shape "
            "mismatches, 2 model tensors not initialised\n"
            "  not initialised: head.fc.weight, head.fc.bias");
}

TEST(Transfer, ShapeMismatchIsAnErrorUnlessAllowed) {
  Net classifier(10, 1);
  Net other(3, 2);
  const auto before = values(other, "backbone.0.weight");
  try {
    transfer_tensors(other, classifier.state_dict(), proto::InitFrom(), "cls.ckpt");
    FAIL() << "expected a shape error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::shape);
    EXPECT_CONTAINS(error.message(), "init_from cls.ckpt: 2 tensors differ in shape");
    EXPECT_CONTAINS(error.message(), "head.fc.weight: checkpoint [10, 8] vs model [3, 8]");
    EXPECT_CONTAINS(error.message(), "allow_shape_mismatch");
  }
  EXPECT_EQ(values(other, "backbone.0.weight"), before);  // nothing copied

  proto::InitFrom allow;
  allow.set_allow_shape_mismatch(true);
  TransferReport report = transfer_tensors(other, classifier.state_dict(), allow, "cls.ckpt");
  EXPECT_EQ(report.matched.size(), 4u);
  EXPECT_EQ(report.shape_mismatches,
            (std::vector<std::string>{"head.fc.weight: checkpoint [10, 8] vs model [3, 8]",
                                      "head.fc.bias: checkpoint [10] vs model [3]"}));
  EXPECT_EQ(report.not_initialised.size(), 2u);
  EXPECT_EQ(values(other, "backbone.0.weight"), values(classifier, "backbone.0.weight"));
}

TEST(Transfer, RenameExcludeAndAbsentNames) {
  Net classifier(10, 1);
  Net encoder(10, 2, "encoder");
  nn::NamedTensors source = classifier.state_dict();
  source.emplace_back("backbone.extra.weight", ops::zeros({2}));
  proto::InitFrom init = init_with({}, {"*.bias"});
  auto* rename = init.add_rename();
  rename->set_from("backbone.");
  rename->set_to("encoder.");
  TransferReport report = transfer_tensors(encoder, source, init, "cls");
  EXPECT_EQ(report.matched,
            (std::vector<std::string>{"encoder.0.weight", "encoder.1.weight", "head.fc.weight"}));
  EXPECT_EQ(report.skipped_by_pattern,
            (std::vector<std::string>{"encoder.0.bias", "encoder.1.bias", "head.fc.bias"}));
  EXPECT_EQ(report.absent_in_model, (std::vector<std::string>{"encoder.extra.weight"}));
  EXPECT_EQ(values(encoder, "encoder.1.weight"), values(classifier, "backbone.1.weight"));
}

TEST(Transfer, TwoNamesRenamedOntoOneAreAnError) {
  Net model(10, 1);
  nn::NamedTensors source = {{"a.w", ops::zeros({1})}, {"b.w", ops::zeros({1})}};
  proto::InitFrom init;
  auto* r = init.add_rename();
  r->set_from("a.");
  r->set_to("b.");
  EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(transfer_tensors(model, source, init, "x")),
                  "two checkpoint tensors map to 'b.w'");
}

class TransferFile : public TempDirTest {};

TEST_F(TransferFile, FromACheckpointFileOrARunDirectory) {
  Net classifier(10, 1);
  proto::Checkpoint checkpoint;
  checkpoint.set_iteration(500);
  io::add_tensor_protos(classifier.state_dict(), checkpoint.mutable_model());
  const std::string run = path("cls_run");
  const std::string file = io::save_run_checkpoint(run, checkpoint, 3);

  for (const std::string& source : {file, run}) {
    Net model(3, 2);
    proto::InitFrom init = init_with({"backbone.*"});
    init.set_checkpoint(source);
    std::vector<std::string> log;
    TransferReport report =
        apply_init_from(model, init, [&](const std::string& line) { log.push_back(line); });
    EXPECT_EQ(report.source, file);
    EXPECT_EQ(report.matched.size(), 4u);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_CONTAINS(log[0], "4 matched, 2 skipped by pattern");
    EXPECT_EQ(values(model, "backbone.1.weight"), values(classifier, "backbone.1.weight"));
  }
  proto::InitFrom missing;
  missing.set_checkpoint(path("nothing"));
  Net model(3, 2);
  EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(apply_init_from(model, missing)), "nothing: cannot open");
}

TEST(Freeze, PatternsStopGradientsOfMatchingParameters) {
  Net model(10, 1);
  std::vector<std::string> frozen = apply_freeze(model, {"backbone.0.*", "head.fc.bias"});
  EXPECT_EQ(frozen,
            (std::vector<std::string>{"backbone.0.weight", "backbone.0.bias", "head.fc.bias"}));
  for (const auto& [name, tensor] : model.named_parameters()) {
    bool expect_frozen = std::find(frozen.begin(), frozen.end(), name) != frozen.end();
    EXPECT_EQ(tensor.requires_grad(), !expect_frozen) << name;
  }
}

TEST(Freeze, APatternMatchingNothingIsAnErrorAndFreezesNothing) {
  Net model(10, 1);
  google::protobuf::RepeatedPtrField<std::string> patterns;
  *patterns.Add() = "backbone.0.*";
  *patterns.Add() = "backbone.stem.*";
  std::string message = OSPREY_ERROR_MESSAGE(apply_freeze(model, patterns));
  EXPECT_CONTAINS(message, "freeze[1]: pattern 'backbone.stem.*' matches no parameter");
  EXPECT_CONTAINS(message, "backbone.0.weight");
  for (const auto& [name, tensor] : model.named_parameters())
    EXPECT_TRUE(tensor.requires_grad()) << name;
}

google::protobuf::RepeatedPtrField<proto::KernelOverride> overrides(
    std::initializer_list<std::pair<const char*, const char*>> entries) {
  google::protobuf::RepeatedPtrField<proto::KernelOverride> out;
  for (const auto& [op, impl] : entries) {
    auto* k = out.Add();
    k->set_op(op);
    k->set_impl(impl);
  }
  return out;
}

TEST(KernelOverrides, AppliedForTheScopeAndRestored) {
  auto& registry = dispatch::Registry::instance();
  registry.set_override("conv2d", DeviceType::cpu, "im2col_gemm");
  {
    KernelOverrideGuard guard(overrides({{"conv2d", "reference"}}));
    EXPECT_EQ(registry.override_for("conv2d", DeviceType::cpu), "reference");
    EXPECT_EQ(guard.applied(), (std::vector<std::string>{"conv2d:cpu=reference"}));
  }
  EXPECT_EQ(registry.override_for("conv2d", DeviceType::cpu), "im2col_gemm");
  registry.clear_override("conv2d", DeviceType::cpu);
  { KernelOverrideGuard guard(overrides({{"conv2d", "reference"}})); }
  EXPECT_FALSE(registry.override_for("conv2d", DeviceType::cpu).has_value());
}

TEST(KernelOverrides, BadEntryNamesItsIndexAndTheAlternativesAndAppliesNothing) {
  auto& registry = dispatch::Registry::instance();
  std::string message = OSPREY_ERROR_MESSAGE(
      KernelOverrideGuard(overrides({{"conv2d", "reference"}, {"conv2d", "fft"}})));
  EXPECT_CONTAINS(message, "kernel[1].impl: op 'conv2d' has no cpu kernel 'fft' (available: ");
  EXPECT_CONTAINS(message, "im2col_gemm");
  EXPECT_FALSE(registry.override_for("conv2d", DeviceType::cpu).has_value());
  EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(KernelOverrideGuard(overrides({{"convv", "x"}}))),
                  "kernel[0].op: unknown op 'convv'");
}

// A GPU spec validates on a CPU-only build (nothing to check against, nothing to apply); a build
// with CUDA kernels checks the entry like any other.
TEST(KernelOverrides, CudaEntriesWithoutCudaKernelsAreLeftAlone) {
  auto& registry = dispatch::Registry::instance();
  google::protobuf::RepeatedPtrField<proto::KernelOverride> entries;
  auto* entry = entries.Add();
  entry->set_op("conv2d");
  entry->set_device(proto::CUDA);
  entry->set_impl("not_a_kernel");
  bool any_cuda = false;
  for (const auto& op : registry.op_names())
    any_cuda |= !registry.kernels(op, DeviceType::cuda).empty();
  if (any_cuda) {
    EXPECT_CONTAINS(kernel_override_problem(entries.Get(0), registry),
                    "impl: op 'conv2d' has no cuda kernel 'not_a_kernel'");
    EXPECT_THROW(KernelOverrideGuard{entries}, Error);
  } else {
    EXPECT_EQ(kernel_override_problem(entries.Get(0), registry), "");
    KernelOverrideGuard guard(entries);
    EXPECT_TRUE(guard.applied().empty());
  }
}

}  // namespace
}  // namespace osprey::experiments
