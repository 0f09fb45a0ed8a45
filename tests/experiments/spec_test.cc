// Spec loading: parse errors with file:line:column, bases (merge, relative paths, cycles, missing
// files), semantic validation with field paths, the model-validator hook, resolved-spec saving.
#include <gtest/gtest.h>

#include "experiments/spec/spec.h"
#include "experiments/spec/validate.h"
#include "framework/core/error.h"
#include "temp_dir.h"

namespace osprey::experiments {
namespace {

using testing::TempDirTest;

constexpr char kValid[] = R"(name: "base_run"
model { backbone { preset: "resnet20" } classification_head { num_classes: 10 } }
train_data { dataset: "fashion_mnist" batch_size: 64 }
solver { base_lr: 0.1 max_iter: 100 }
freeze: "backbone.stem.*"
)";

class Spec : public TempDirTest {};

TEST_F(Spec, LoadsAValidSpec) {
  proto::Experiment spec = load_spec(write("a.prototxt", kValid));
  EXPECT_EQ(spec.name(), "base_run");
  EXPECT_EQ(spec.train_data().batch_size(), 64);
  EXPECT_EQ(spec.solver().max_iter(), 100);
}

TEST_F(Spec, DerivedSpecMergesOverItsBaseRelativeToItsDirectory) {
  write("common/base.prototxt", kValid);
  std::string derived = write("exp/derived.prototxt", R"(base: "../common/base.prototxt"
name: "derived"
solver { base_lr: 0.05 lr_schedule { policy: STEP step_size: 30 } }
freeze: "backbone.res2.*"
)");
  proto::Experiment spec = load_spec(derived);
  EXPECT_FALSE(spec.has_base());
  EXPECT_EQ(spec.name(), "derived");                       // derived scalar wins
  EXPECT_EQ(spec.solver().base_lr(), 0.05);                // nested scalar wins
  EXPECT_EQ(spec.solver().max_iter(), 100);                // the base's value survives
  EXPECT_EQ(spec.solver().lr_schedule().step_size(), 30);  // new nested message
  EXPECT_EQ(spec.train_data().batch_size(), 64);
  ASSERT_EQ(spec.freeze_size(), 2);  // repeated fields append
  EXPECT_EQ(spec.freeze(0), "backbone.stem.*");
  EXPECT_EQ(spec.freeze(1), "backbone.res2.*");
}

TEST_F(Spec, BasesChainRecursively) {
  write("a.prototxt", kValid);
  write("b.prototxt", "base: 'a.prototxt'\nseed: 7\n");
  proto::Experiment spec = load_spec(write("c.prototxt", "base: 'b.prototxt'\nname: 'c'\n"));
  EXPECT_EQ(spec.seed(), 7u);
  EXPECT_EQ(spec.name(), "c");
  EXPECT_EQ(spec.solver().max_iter(), 100);
}

TEST_F(Spec, UnknownFieldReportsFileLineAndColumn) {
  std::string file = write("typo.prototxt", "name: 'x'\nsolver {\n  base_lrr: 0.1\n}\n");
  std::string message = OSPREY_ERROR_MESSAGE(load_spec(file));
  EXPECT_CONTAINS(message, file + ":3:11: ");
  EXPECT_CONTAINS(message, "base_lrr");
}

TEST_F(Spec, SyntaxErrorReportsFileLineAndColumn) {
  std::string file = write("bad.prototxt", "name: 'x'\nsolver { base_lr: }\n");
  std::string message = OSPREY_ERROR_MESSAGE(load_spec(file));
  EXPECT_CONTAINS(message, file + ":2:19: ");
}

TEST_F(Spec, ErrorInABaseNamesTheBaseFile) {
  std::string base = write("base.prototxt", "seed: 1\nmodle {}\n");
  std::string derived = write("derived.prototxt", "base: 'base.prototxt'\n");
  std::string message = OSPREY_ERROR_MESSAGE(load_spec(derived));
  EXPECT_CONTAINS(message, base + ":2:");
  EXPECT_CONTAINS(message, "modle");
}

TEST_F(Spec, BaseCycleShowsTheChain) {
  write("a.prototxt", "base: 'b.prototxt'\n");
  write("b.prototxt", "base: 'a.prototxt'\n");
  std::string message = OSPREY_ERROR_MESSAGE(load_spec(path("a.prototxt")));
  EXPECT_CONTAINS(message, "cycle");
  EXPECT_CONTAINS(message, "a.prototxt -> ");
  EXPECT_CONTAINS(message, "b.prototxt -> ");
}

TEST_F(Spec, SelfBaseIsACycle) {
  std::string message =
      OSPREY_ERROR_MESSAGE(load_spec(write("self.prototxt", "base: 'self.prototxt'\n")));
  EXPECT_CONTAINS(message, "cycle");
}

TEST_F(Spec, MissingBaseNamesTheDerivedFileLineAndThePath) {
  std::string derived = write("d.prototxt", "name: 'd'\nbase: 'nowhere.prototxt'\n");
  std::string message = OSPREY_ERROR_MESSAGE(load_spec(derived));
  EXPECT_CONTAINS(message, derived + ":2:");
  EXPECT_CONTAINS(message, "'nowhere.prototxt' not found");
  EXPECT_CONTAINS(message, path("nowhere.prototxt"));
}

TEST_F(Spec, MissingSpecFileIsNotFound) {
  try {
    load_spec(path("absent.prototxt"));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::not_found);
    EXPECT_CONTAINS(error.message(), "absent.prototxt");
  }
}

class SpecValidation : public TempDirTest {
 protected:
  std::string problems(const std::string& extra) {
    write("base.prototxt", kValid);
    std::string file = write("v.prototxt", "base: 'base.prototxt'\n" + extra);
    return OSPREY_ERROR_MESSAGE(load_spec(file));
  }
};

TEST_F(SpecValidation, ReportsFieldPaths) {
  std::string message = problems(
      "solver { base_lr: -0.1 momentum: 1.5 }\ntrain_data { batch_size: 0 }\n"
      "eval { top_k: 0 }\n");
  EXPECT_CONTAINS(message, "v.prototxt: invalid spec:");
  EXPECT_CONTAINS(message, "solver.base_lr: must be > 0 (got -0.1)");
  EXPECT_CONTAINS(message, "solver.momentum: must be in [0, 1) (got 1.5)");
  EXPECT_CONTAINS(message, "train_data.batch_size: must be > 0 (got 0)");
  EXPECT_CONTAINS(message, "eval.top_k[0]: must be > 0");
}

TEST_F(SpecValidation, TrainingLengthIsRequired) {
  std::string file =
      write("n.prototxt", "name: 'n' model {} train_data { dataset: 'fashion_mnist' } solver {}");
  EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(load_spec(file)),
                  "solver: one of max_iter or epochs must be set");
  EXPECT_CONTAINS(problems("solver { epochs: 3 }"), "solver: set only one of max_iter");
}

TEST_F(SpecValidation, MissingSectionsAndName) {
  std::string message = OSPREY_ERROR_MESSAGE(load_spec(write("e.prototxt", "seed: 3\n")));
  EXPECT_CONTAINS(message, "name: must be set");
  EXPECT_CONTAINS(message, "model: must be set");
  EXPECT_CONTAINS(message, "train_data: must be set");
  EXPECT_CONTAINS(message, "solver: must be set");
}

TEST_F(SpecValidation, LrPolicyFields) {
  EXPECT_CONTAINS(problems("solver { lr_schedule { policy: STEP } }"),
                  "solver.lr_schedule.step_size: required by policy STEP");
  EXPECT_CONTAINS(problems("solver { lr_schedule { policy: MULTISTEP } }"),
                  "solver.lr_schedule.milestones: required by policy MULTISTEP");
  EXPECT_CONTAINS(problems("solver { lr_schedule { policy: MULTISTEP milestones: [50, 40] } }"),
                  "solver.lr_schedule.milestones[1]: must be greater");
  EXPECT_CONTAINS(problems("solver { lr_schedule { policy: POLY power: 0 } }"),
                  "solver.lr_schedule.power: must be > 0");
  EXPECT_CONTAINS(problems("solver { lr_schedule { policy: COSINE final_lr: 1 } }"),
                  "solver.lr_schedule.final_lr: must not exceed solver.base_lr");
}

TEST_F(SpecValidation, TransferAndFreezeEntries) {
  std::string message = problems(
      "init_from { include: '' rename { from: 'a.' } }\nfreeze: ''\n"
      "solver { param_rule { lr_mult: -1 } }\n");
  EXPECT_CONTAINS(message, "init_from[0].checkpoint: must be set");
  EXPECT_CONTAINS(message, "init_from[0].include[0]: must not be empty");
  EXPECT_CONTAINS(message, "init_from[0].rename[0]: needs both from and to");
  EXPECT_CONTAINS(message, "freeze[1]: must not be empty");
  EXPECT_CONTAINS(message, "solver.param_rule[0].pattern: must be set");
  EXPECT_CONTAINS(message, "solver.param_rule[0].lr_mult: must be >= 0");
}

TEST_F(SpecValidation, KernelOverridesNameExistingOpsAndImpls) {
  std::string message = problems(
      "kernel { op: 'conv2d' impl: 'im2col_gemm' }\n"
      "kernel { op: 'conv9d' impl: 'x' }\n"
      "kernel { op: 'conv2d' impl: 'winograd' }\n");
  EXPECT_NOT_CONTAINS(message, "kernel[0]");
  EXPECT_CONTAINS(message, "kernel[1].op: unknown op 'conv9d' (ops: ");
  EXPECT_CONTAINS(message,
                  "kernel[2].impl: op 'conv2d' has no cpu kernel 'winograd' "
                  "(available: ");
  EXPECT_CONTAINS(message, "im2col_gemm");
  EXPECT_CONTAINS(message, "reference");
}

TEST_F(SpecValidation, ExtraValidatorsRunUntilRemoved) {
  int id = add_spec_validator([](const proto::Experiment& spec, std::vector<std::string>& out) {
    if (spec.model().backbone().preset() != "resnet50")
      out.push_back("model.backbone.preset: this check wants resnet50");
  });
  std::string file = write("base.prototxt", kValid);
  EXPECT_CONTAINS(OSPREY_ERROR_MESSAGE(load_spec(file)),
                  "model.backbone.preset: this check wants resnet50");
  remove_spec_validator(id);
  EXPECT_NO_THROW(load_spec(file));
}

TEST_F(Spec, SavedResolvedSpecReloadsIdentically) {
  write("base.prototxt", kValid);
  proto::Experiment spec =
      load_spec(write("d.prototxt", "base: 'base.prototxt'\nsolver { base_lr: 0.2 }\n"));
  std::string out = path("run/resolved.prototxt");
  std::filesystem::create_directories(path("run"));
  save_resolved_spec(spec, out);
  proto::Experiment again = load_spec(out);
  EXPECT_EQ(again.SerializeAsString(), spec.SerializeAsString());
  EXPECT_EQ(again.solver().base_lr(), 0.2);
  // No temporary file is left beside it.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path("run"))) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace osprey::experiments
