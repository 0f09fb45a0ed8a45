// The trainer's parts on their own: top-k counting (ties, NaN), the metrics files (columns,
// round-trip, truncation on resume), the progress display's styles, the loss smoother, seeds per
// role and `--set` overrides.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/train/accuracy.h"
#include "experiments/train/metrics_writer.h"
#include "experiments/train/progress.h"
#include "experiments/train/run_setup.h"
#include "framework/core/error.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;
using namespace experiments;

TEST(TopKCounter, CountsRanksWithTiesAndNaN) {
  TopKCounter counter({1, 2});
  // Row 0: label 2 has the highest score. Row 1: label 0 is second. Row 2: label 1 ties with
  // class 0, which comes first, so it ranks second. Row 3: a NaN label score is never correct.
  Tensor logits = Tensor::from_vector<float>(
      {0.1f, 0.2f, 0.9f, 0.5f, 0.7f, 0.1f, 0.4f, 0.4f, 0.1f, 0.3f, NAN, 0.1f}, {4, 3});
  Tensor labels = Tensor::from_vector<int64_t>({2, 0, 1, 1}, {4});
  counter.add(logits, labels);
  EXPECT_EQ(counter.examples(), 4);
  EXPECT_EQ(counter.correct(1), 1);
  EXPECT_EQ(counter.correct(2), 3);
  EXPECT_DOUBLE_EQ(counter.accuracy(2), 0.75);
  EXPECT_THROW(counter.correct(5), Error);
  EXPECT_THROW(counter.add(logits, Tensor::from_vector<int64_t>({0, 3, 0, 0}, {4})), Error);
  EXPECT_THROW(counter.add(logits, Tensor::from_vector<int64_t>({0}, {1})), Error);
  EXPECT_THROW(TopKCounter({0}), Error);
}

TEST(MetricsWriter, WritesCsvAndJsonlAndTruncates) {
  fs::path dir = fs::temp_directory_path() / "osprey_metrics_writer";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    MetricsWriter writer(dir.string(), {"loss", "lr", "eval_top1"});
    writer.write({10, {{"loss", 0.1}, {"lr", 0.5}}});
    writer.write({20, {{"eval_top1", 0.75}}});
    writer.write({30, {{"loss", NAN}}});
    EXPECT_THROW(writer.write({40, {{"unknown", 1.0}}}), Error);
  }
  std::ifstream csv(dir / "metrics.csv");
  std::stringstream text;
  text << csv.rdbuf();
  EXPECT_EQ(text.str(),
            "iteration,loss,lr,eval_top1\n10,0.10000000000000001,0.5,\n20,,,0.75\n30,nan,,\n");
  auto records = read_metrics_jsonl((dir / "metrics.jsonl").string());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].iteration, 10);
  EXPECT_EQ(records[0].values.at("loss"), 0.1);
  EXPECT_EQ(records[1].values.size(), 1u);
  EXPECT_TRUE(std::isnan(records[2].values.at("loss")));

  MetricsWriter::truncate_after(dir.string(), 20);
  records = read_metrics_jsonl((dir / "metrics.jsonl").string());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records.back().iteration, 20);
  {
    MetricsWriter writer(dir.string(), {"loss", "lr", "eval_top1"});  // appends, no new header
    writer.write({30, {{"loss", 0.25}}});
  }
  std::ifstream again(dir / "metrics.csv");
  std::stringstream text2;
  text2 << again.rdbuf();
  EXPECT_EQ(text2.str(),
            "iteration,loss,lr,eval_top1\n10,0.10000000000000001,0.5,\n20,,,0.75\n30,0.25,,\n");
  fs::remove_all(dir);
}

TEST(Progress, LinesStyleWritesEveryIntervalAndTheEnd) {
  std::ostringstream out;
  ProgressDisplay display(out, proto::LINES, 2);
  for (int64_t it = 1; it <= 5; ++it) {
    ProgressUpdate u;
    u.iteration = it;
    u.max_iter = 5;
    u.loss = 1.5;
    u.lr = 0.1;
    u.images_per_second = 100;
    u.eta_seconds = 65;
    display.update(u);
  }
  display.message("eval");
  std::string text = out.str();
  EXPECT_NE(text.find("it 2/5  epoch 0.00  loss 1.5000  lr 0.1  100 img/s  ETA 1m05s\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("it 4/5"), std::string::npos);
  EXPECT_NE(text.find("it 5/5"), std::string::npos);
  EXPECT_EQ(text.find("it 3/5"), std::string::npos);
  EXPECT_NE(text.find("eval\n"), std::string::npos);
}

TEST(Progress, BarStyleRedrawsOneLine) {
  std::ostringstream out;
  {
    ProgressDisplay display(out, proto::BAR, 10);
    ProgressUpdate u;
    u.iteration = 5;
    u.max_iter = 10;
    display.update(u);
    display.message("checkpoint");
    display.finish();
  }
  std::string text = out.str();
  EXPECT_NE(text.find("\r\033[2K[############............]  50% it 5/10"), std::string::npos)
      << text;
  EXPECT_NE(text.find("checkpoint\n[####"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(resolve_progress_style(proto::AUTO, true), proto::BAR);
  EXPECT_EQ(resolve_progress_style(proto::AUTO, false), proto::LINES);
  EXPECT_EQ(resolve_progress_style(proto::QUIET, true), proto::QUIET);
}

TEST(Progress, DurationsAndSmoothing) {
  EXPECT_EQ(format_duration(12.4), "12s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(NAN), "?");
  Smoother s(0.5);
  EXPECT_DOUBLE_EQ(s.add(4.0), 4.0);  // bias-corrected: the first value itself
  EXPECT_DOUBLE_EQ(s.add(1.0), (0.25 * 4.0 + 0.5 * 1.0) / 0.75);
}

TEST(RunSetup, SeedsPerRoleAndOverrides) {
  EXPECT_EQ(derive_seed(1, "model"), derive_seed(1, "model"));
  EXPECT_NE(derive_seed(1, "model"), derive_seed(1, "data"));
  EXPECT_NE(derive_seed(1, "model"), derive_seed(2, "model"));

  proto::Experiment spec;
  spec.mutable_solver()->set_epochs(8);
  apply_overrides(spec, {"solver.max_iter=30", "train_data.limit=512", "name=\"smoke\"",
                         "solver.lr_schedule.policy=COSINE"});
  EXPECT_EQ(spec.solver().max_iter(), 30);
  EXPECT_FALSE(spec.solver().has_epochs());
  EXPECT_EQ(spec.train_data().limit(), 512);
  EXPECT_EQ(spec.name(), "smoke");
  EXPECT_EQ(spec.solver().lr_schedule().policy(), proto::COSINE);
  EXPECT_THROW(apply_overrides(spec, {"solver.max_iter"}), Error);
  EXPECT_THROW(apply_overrides(spec, {"solver.no_such_field=1"}), Error);

  proto::SolverSpec solver;
  solver.set_epochs(1.5);
  EXPECT_EQ(resolve_max_iter(solver, 10), 15);
  solver.set_max_iter(7);
  EXPECT_EQ(resolve_max_iter(solver, 10), 7);
  EXPECT_THROW(resolve_max_iter(proto::SolverSpec(), 10), Error);
}

}  // namespace
}  // namespace osprey
