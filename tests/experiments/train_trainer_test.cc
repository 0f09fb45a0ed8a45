// The trainer on a tiny idx dataset written by the test: the loss falls and evaluation runs; a run
// cut short and resumed from its run directory gives bit-identical losses to the uninterrupted
// run; a diverging run stops naming the iteration and the parameter and keeps its last good
// checkpoint; the run directory holds the spec, metrics and keep_last checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "experiments/train/metrics_writer.h"
#include "experiments/train/run_files.h"
#include "tests/experiments/train_fixture.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;
using experiments::Trainer;
using experiments::TrainerOptions;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("osprey_train_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    test::write_tiny_fashion_mnist(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }

  TrainerOptions options(std::vector<double>* losses, int64_t stop_after = -1) {
    TrainerOptions o;
    o.out = &log_;
    o.build_model = test::tiny_model_builder();
    o.stop_after = stop_after;
    if (losses) {
      o.on_iteration = [losses](int64_t iteration, double loss) {
        EXPECT_EQ(iteration, static_cast<int64_t>(losses->size()) + 1);
        losses->push_back(loss);
      };
    }
    return o;
  }

  fs::path dir_;
  std::ostringstream log_;
};

TEST_F(TrainerTest, LossFallsAndRunDirectoryIsComplete) {
  proto::Experiment spec = test::tiny_spec(dir_ / "data", dir_ / "run");
  std::vector<double> losses;
  Trainer trainer(spec, options(&losses));
  experiments::TrainResult result = trainer.train();
  ASSERT_EQ(losses.size(), 40u);
  EXPECT_TRUE(result.finished);
  EXPECT_EQ(result.iteration, 40);
  double first = (losses[0] + losses[1] + losses[2]) / 3,
         last = (losses[37] + losses[38] + losses[39]) / 3;
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
  ASSERT_TRUE(result.eval.has_value());
  EXPECT_EQ(result.eval->examples, 96);
  EXPECT_GT(result.eval->accuracy.at(1), 0.5);
  EXPECT_GE(result.eval->accuracy.at(5), result.eval->accuracy.at(1));

  fs::path run = dir_ / "run";
  EXPECT_TRUE(fs::exists(run / "spec.prototxt"));
  EXPECT_EQ(experiments::load_run_spec(run.string()).solver().max_iter(), 40);
  // keep_last 2 of the checkpoints at 10, 20, 30 and the final 40.
  EXPECT_EQ(experiments::list_run_checkpoints(run.string()).size(), 2u);
  proto::Checkpoint last_checkpoint =
      experiments::read_checkpoint(*experiments::latest_run_checkpoint(run.string()));
  EXPECT_EQ(last_checkpoint.iteration(), 40);
  EXPECT_EQ(last_checkpoint.rng_state().count("model"), 1u);

  // Logging every 20 iterations: rows at 20 and 40; evaluations at 10, 20, 30 and the end.
  auto records = experiments::read_metrics_jsonl((run / "metrics.jsonl").string());
  int train_rows = 0, eval_rows = 0;
  for (const auto& r : records) {
    if (r.values.count("loss")) {
      ++train_rows;
      EXPECT_EQ(r.values.at("loss"), losses[r.iteration - 1]);  // 17 digits round-trip
    }
    if (r.values.count("eval_top1")) ++eval_rows;
  }
  EXPECT_EQ(train_rows, 2);
  EXPECT_EQ(eval_rows, 4);
  EXPECT_EQ(records.back().values.at("eval_top1"), result.eval->accuracy.at(1));
}

TEST_F(TrainerTest, ResumedRunReproducesEveryLossBitwise) {
  // Metrics rows every 5 iterations, so the cut run writes rows after its last checkpoint.
  auto spec = [&](const char* run) {
    proto::Experiment s = test::tiny_spec(dir_ / "data", dir_ / run);
    s.mutable_logging()->set_every_iters(5);
    return s;
  };
  std::vector<double> straight;
  {
    Trainer trainer(spec("straight"), options(&straight));
    trainer.train();
  }
  std::vector<double> resumed;
  {
    // Killed at iteration 25, five iterations after the checkpoint at 20.
    Trainer trainer(spec("cut"), options(&resumed, 25));
    experiments::TrainResult result = trainer.train();
    EXPECT_FALSE(result.finished);
    EXPECT_EQ(result.iteration, 25);
  }
  ASSERT_EQ(resumed.size(), 25u);
  resumed.resize(20);  // what the checkpoint holds
  {
    auto continued = Trainer::resume((dir_ / "cut").string(), options(&resumed));
    EXPECT_EQ(continued->iteration(), 20);
    continued->train();
  }
  ASSERT_EQ(resumed.size(), straight.size());
  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_EQ(resumed[i], straight[i]) << "iteration " << i + 1;
  }
  // The metrics of the resumed run hold each iteration once (the rows at 25 written before the
  // kill were dropped on resume).
  auto records = experiments::read_metrics_jsonl((dir_ / "cut" / "metrics.jsonl").string());
  auto straight_records =
      experiments::read_metrics_jsonl((dir_ / "straight" / "metrics.jsonl").string());
  ASSERT_EQ(records.size(), straight_records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].iteration, straight_records[i].iteration);
    for (const char* name : {"loss", "eval_top1", "eval_loss"}) {
      if (straight_records[i].values.count(name)) {
        EXPECT_EQ(records[i].values.at(name), straight_records[i].values.at(name)) << name;
      }
    }
  }
}

TEST_F(TrainerTest, DivergenceStopsAndKeepsTheLastGoodCheckpoint) {
  proto::Experiment spec = test::tiny_spec(dir_ / "data", dir_ / "run");
  spec.mutable_solver()->set_base_lr(1e30);
  spec.mutable_solver()->mutable_lr_schedule()->set_warmup_iters(0);
  spec.mutable_checkpoint()->set_every_iters(1);
  Trainer trainer(spec, options(nullptr));
  std::string message;
  try {
    trainer.train();
  } catch (const Error& e) {
    message = e.what();
  }
  ASSERT_NE(message.find("training diverged at iteration"), std::string::npos) << message;
  EXPECT_NE(message.find("first parameter with a non-finite gradient: "), std::string::npos);
  int64_t stopped = trainer.iteration();
  EXPECT_GE(stopped, 1);
  EXPECT_NE(message.find(fmt::format("iteration {}:", stopped + 1)), std::string::npos) << message;
  auto latest = experiments::latest_run_checkpoint((dir_ / "run").string());
  ASSERT_TRUE(latest.has_value());
  proto::Checkpoint checkpoint = experiments::read_checkpoint(*latest);
  EXPECT_EQ(checkpoint.iteration(), stopped);
  for (const auto& [name, tensor] : experiments::read_tensors(checkpoint.model(), *latest)) {
    if (tensor.dtype() != DType::f32) continue;
    for (float v : tensor.to_vector<float>()) ASSERT_TRUE(std::isfinite(v)) << name;
  }
}

TEST_F(TrainerTest, InitFromAnotherRunAndFreeze) {
  proto::Experiment source = test::tiny_spec(dir_ / "data", dir_ / "source");
  source.mutable_solver()->set_max_iter(10);
  Trainer first(source, options(nullptr));
  first.train();
  nn::NamedTensors trained = first.model().state_dict();

  proto::Experiment spec = test::tiny_spec(dir_ / "data", dir_ / "transfer");
  spec.mutable_solver()->set_max_iter(5);
  spec.add_init_from()->set_checkpoint((dir_ / "source").string());
  spec.add_freeze("0.*");  // the first convolution
  Trainer second(spec, options(nullptr));
  EXPECT_NE(log_.str().find("init_from"), std::string::npos) << log_.str();
  EXPECT_NE(log_.str().find("frozen: 2 parameters"), std::string::npos) << log_.str();
  for (const auto& p : second.optimizer().params()) EXPECT_NE(p.name.rfind("0.", 0), 0u) << p.name;
  second.train();
  nn::NamedTensors now = second.model().state_dict();
  ASSERT_EQ(now.size(), trained.size());
  for (size_t i = 0; i < now.size(); ++i) {
    if (now[i].first == "0.weight" || now[i].first == "0.bias") {
      EXPECT_EQ(now[i].second.to_vector<float>(), trained[i].second.to_vector<float>());
    } else if (now[i].first == "1.weight") {
      // Loaded from the source, then trained further.
      EXPECT_NE(now[i].second.to_vector<float>(), trained[i].second.to_vector<float>());
    }
  }
}

TEST_F(TrainerTest, ANewRunRefusesADirectoryWithCheckpoints) {
  proto::Experiment spec = test::tiny_spec(dir_ / "data", dir_ / "run");
  spec.mutable_solver()->set_max_iter(2);
  Trainer(spec, options(nullptr)).train();
  try {
    Trainer again(spec, options(nullptr));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("osprey resume"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Trainer::resume((dir_ / "nowhere").string(), options(nullptr)), Error);
}

TEST_F(TrainerTest, AnEpochWithoutAFullBatchIsAnError) {
  proto::Experiment spec = test::tiny_spec(dir_ / "data", dir_ / "run");
  spec.mutable_train_data()->set_batch_size(1 << 20);
  spec.mutable_train_data()->set_drop_last(true);
  try {
    Trainer(spec, options(nullptr)).train();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("make no full batch"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace osprey
