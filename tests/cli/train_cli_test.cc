// `osprey train`, `osprey eval` and `osprey resume` run in-process on a tiny idx dataset with a
// tiny model: a spec file with --set overrides trains into --output, eval prints and writes JSON,
// resume finishes a run cut short, and bad input is an error naming the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/text_format.h>

#include "experiments/cli/train_commands.h"
#include "experiments/train/run_files.h"
#include "tests/experiments/train_fixture.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("osprey_train_cli_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    test::write_tiny_fashion_mnist(dir_ / "data");
    proto::Experiment spec = test::tiny_spec(dir_ / "data", dir_ / "unused");
    spec.clear_output_dir();
    std::string text;
    google::protobuf::TextFormat::PrintToString(spec, &text);
    std::ofstream(dir_ / "tiny.prototxt") << text;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TrainCli, TrainEvalAndResume) {
  cli::TrainCommandOptions train;
  train.spec = (dir_ / "tiny.prototxt").string();
  train.output = (dir_ / "run").string();
  train.sets = {"solver.max_iter=20", "logging.progress=LINES", "logging.every_iters=5"};
  std::ostringstream out;
  experiments::TrainResult result = cli::run_train_command(train, out, test::tiny_model_builder());
  EXPECT_TRUE(result.finished);
  EXPECT_EQ(result.iteration, 20);
  EXPECT_NE(out.str().find("it 5/20"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("final evaluation: top1 "), std::string::npos) << out.str();
  EXPECT_EQ(experiments::load_run_spec((dir_ / "run").string()).solver().max_iter(), 20);

  cli::EvalCommandOptions eval;
  eval.spec = train.spec;
  eval.checkpoint = result.last_checkpoint;
  std::ostringstream eval_out;
  experiments::CheckpointEval evaluated =
      cli::run_eval_command(eval, eval_out, test::tiny_model_builder());
  EXPECT_EQ(evaluated.iteration, 20);
  // The checkpoint's model gives the trainer's own final numbers.
  EXPECT_EQ(evaluated.result.accuracy.at(1), result.eval->accuracy.at(1));
  EXPECT_EQ(evaluated.result.mean_loss, result.eval->mean_loss);
  std::ifstream json(result.last_checkpoint + ".eval.json");
  std::stringstream json_text;
  json_text << json.rdbuf();
  EXPECT_NE(json_text.str().find("\"iteration\": 20, \"examples\": 96"), std::string::npos)
      << json_text.str();

  // A run cut short at iteration 10 is finished by `resume`.
  proto::Experiment spec = experiments::load_spec_file(train.spec);
  spec.set_output_dir((dir_ / "cut").string());
  spec.mutable_solver()->set_max_iter(20);
  experiments::TrainerOptions options;
  options.out = &out;
  options.build_model = test::tiny_model_builder();
  options.stop_after = 10;
  experiments::Trainer(spec, options).train();
  std::ostringstream resume_out;
  experiments::TrainResult resumed =
      cli::run_resume_command((dir_ / "cut").string(), resume_out, test::tiny_model_builder());
  EXPECT_NE(resume_out.str().find("resuming 'tiny' at iteration 10 of 20"), std::string::npos)
      << resume_out.str();
  EXPECT_TRUE(resumed.finished);
  EXPECT_EQ(resumed.last_loss, result.last_loss);
}

TEST_F(TrainCli, ErrorsNameTheProblem) {
  std::ostringstream out;
  auto message = [&](const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  cli::TrainCommandOptions train;
  train.spec = (dir_ / "missing.prototxt").string();
  EXPECT_NE(message([&] {
              cli::run_train_command(train, out, test::tiny_model_builder());
            }).find("missing.prototxt"),
            std::string::npos);
  train.spec = (dir_ / "tiny.prototxt").string();
  train.sets = {"solver.max_itr=3"};
  EXPECT_NE(message([&] {
              cli::run_train_command(train, out, test::tiny_model_builder());
            }).find("solver.max_itr=3"),
            std::string::npos);
  cli::EvalCommandOptions eval;
  eval.spec = train.spec;
  eval.checkpoint = (dir_ / "none.ckpt").string();
  EXPECT_NE(message([&] {
              cli::run_eval_command(eval, out, test::tiny_model_builder());
            }).find("none.ckpt"),
            std::string::npos);
  EXPECT_NE(
      message([&] { cli::run_resume_command((dir_ / "nowhere").string(), out); }).find("nowhere"),
      std::string::npos);
}

}  // namespace
}  // namespace osprey
