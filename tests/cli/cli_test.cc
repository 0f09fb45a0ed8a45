// The CLI subcommand bodies, run in-process on a temporary directory: `op` (outputs, gradients,
// errors), `check-kernel` (a passing check, unknown names) and `demo mlp` (the loss falls, a seed
// replays, bad options and a missing GPU are errors).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "experiments/cli/commands.h"
#include "framework/core/backend.h"
#include "framework/io/npy.h"
#include "ops/common/op_helpers.h"

namespace osprey {
namespace {

namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("osprey_cli_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string save(const std::string& name, const Tensor& t) const {
    io::write_npy(path(name), t);
    return path(name);
  }
  fs::path dir_;
};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_F(Cli, OpWritesOutputAndGradients) {
  std::string a = save("a.npy", Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}));
  std::string b = save("b.npy", Tensor::from_vector<float>({1, 2, 3}, {3}));
  cli::OpCommandOptions options;
  options.op = "add";
  options.inputs = {"input=" + a, "other=" + b};
  options.attrs = {"alpha=2"};
  options.out_dir = path("out");
  options.grad = true;
  std::ostringstream log;
  cli::run_op_command(options, log);
  EXPECT_NE(log.str().find("add/cpu/reference"), std::string::npos) << log.str();
  EXPECT_EQ(io::read_npy(path("out/output.npy")).to_vector<float>(),
            (std::vector<float>{2, 5, 8, 5, 8, 11}));
  EXPECT_EQ(io::read_npy(path("out/grad_input.npy")).to_vector<float>(),
            (std::vector<float>(6, 1.0f)));
  EXPECT_EQ(io::read_npy(path("out/grad_other.npy")).to_vector<float>(),
            (std::vector<float>{4, 4, 4}));
}

TEST_F(Cli, OpUsesGivenOutputGradient) {
  std::string a = save("a.npy", Tensor::from_vector<double>({1, 2}, {2}));
  std::string b = save("b.npy", Tensor::from_vector<double>({3, 5}, {2}));
  std::string g = save("g.npy", Tensor::from_vector<double>({10, 100}, {2}));
  cli::OpCommandOptions options;
  options.op = "mul";
  options.inputs = {"other=" + b, "input=" + a};
  options.out_dir = path("out");
  options.grad = true;
  options.grad_output = g;
  options.impl = "reference";
  std::ostringstream log;
  cli::run_op_command(options, log);
  EXPECT_EQ(io::read_npy(path("out/output.npy")).to_vector<double>(), (std::vector<double>{3, 10}));
  EXPECT_EQ(io::read_npy(path("out/grad_input.npy")).to_vector<double>(),
            (std::vector<double>{30, 500}));
  EXPECT_EQ(io::read_npy(path("out/grad_other.npy")).to_vector<double>(),
            (std::vector<double>{10, 200}));

  options.grad_output = save("bad.npy", Tensor::from_vector<double>({1, 2, 3}, {3}));
  EXPECT_NE(error_of([&] { cli::run_op_command(options, log); }).find("has shape [3]"),
            std::string::npos);
}

TEST_F(Cli, OpWithoutInputsTakesAttributes) {
  cli::OpCommandOptions options;
  options.op = "randperm";
  options.attrs = {"n=6", "seed=4"};
  options.out_dir = path("out");
  std::ostringstream log;
  cli::run_op_command(options, log);
  auto v = io::read_npy(path("out/output.npy")).to_vector<int64_t>();
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(Cli, OpErrorsListAlternatives) {
  std::string a = save("a.npy", Tensor::from_vector<float>({1}, {1}));
  cli::OpCommandOptions options;
  options.op = "add";
  options.out_dir = path("out");
  std::ostringstream log;

  options.inputs = {"inp=" + a};
  std::string error = error_of([&] { cli::run_op_command(options, log); });
  EXPECT_NE(error.find("no input 'inp' (inputs: input, other)"), std::string::npos) << error;

  options.inputs = {"input=" + a, "other=" + a};
  options.attrs = {"beta=1"};
  error = error_of([&] { cli::run_op_command(options, log); });
  EXPECT_NE(error.find("no attribute 'beta' (attributes: alpha"), std::string::npos) << error;

  options.attrs = {"alpha=x"};
  EXPECT_NE(error_of([&] { cli::run_op_command(options, log); }).find("alpha"), std::string::npos);

  options.attrs = {};
  options.impl = "nonexistent";
  error = error_of([&] { cli::run_op_command(options, log); });
  EXPECT_NE(error.find("add/cpu/reference"), std::string::npos) << error;

  options.op = "no_such_op";
  error = error_of([&] { cli::run_op_command(options, log); });
  EXPECT_NE(error.find("registered ops:"), std::string::npos) << error;

  options.op = "randperm";
  options.inputs = {};
  options.impl = "";
  options.attrs = {"n=3"};
  options.grad = true;
  error = error_of([&] { cli::run_op_command(options, log); });
  EXPECT_NE(error.find("not differentiable"), std::string::npos) << error;

  options.op = "add";
  options.grad = false;
  options.attrs = {};
  options.inputs = {"input=" + path("missing.npy"), "other=" + a};
  error = error_of([&] { cli::run_op_command(options, log); });
  EXPECT_NE(error.find("missing.npy"), std::string::npos) << error;
}

TEST_F(Cli, CheckKernelReferencePasses) {
  for (const char* op : {"add", "mul", "uniform", "bernoulli"}) {
    cli::CheckKernelOptions options;
    options.op = op;
    options.impl = "reference";
    options.timing = std::string(op) == "add";
    std::ostringstream out;
    EXPECT_EQ(cli::run_check_kernel(options, out), 0) << out.str();
    EXPECT_NE(out.str().find("0 mismatched"), std::string::npos) << out.str();
    if (options.timing) {
      EXPECT_NE(out.str().find("speed-up"), std::string::npos) << out.str();
    }
  }
}

// A deliberately wrong add kernel (lowest priority, so nothing else in this binary selects it).
const bool broken_registered = [] {
  ops::register_kernel(
      "add", DeviceType::cpu, "broken_for_test", -100,
      [](dispatch::KernelContext& ctx) {
        const Tensor& a = ctx.input(0);
        Shape shape = ops::broadcast_shapes(a.shape(), ctx.input(1).shape(), "add");
        ctx.output(0, shape, a.dtype()).copy_(a);  // forgets `other`
      },
      {}, "wrong on purpose: tests that check-kernel reports mismatches");
  return true;
}();

TEST_F(Cli, CheckKernelReportsMismatch) {
  ASSERT_TRUE(broken_registered);
  cli::CheckKernelOptions options;
  options.op = "add";
  options.impl = "broken_for_test";
  std::ostringstream out;
  EXPECT_GT(cli::run_check_kernel(options, out), 0) << out.str();
  EXPECT_NE(out.str().find("MISMATCH output 0"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("speed-up"), std::string::npos) << out.str();
}

TEST_F(Cli, CheckKernelUnknownNames) {
  cli::CheckKernelOptions options;
  options.op = "add";
  options.impl = "turbo";
  std::ostringstream out;
  std::string error = error_of([&] { cli::run_check_kernel(options, out); });
  EXPECT_NE(error.find("no kernel 'add/cpu/turbo'"), std::string::npos) << error;
  EXPECT_NE(error.find("add/cpu/reference"), std::string::npos) << error;
  options.op = "addd";
  error = error_of([&] { cli::run_check_kernel(options, out); });
  EXPECT_NE(error.find("unknown op 'addd'"), std::string::npos) << error;
}

TEST_F(Cli, DemoMlpLossFalls) {
  cli::DemoMlpOptions options;
  options.steps = 200;
  std::ostringstream out;
  auto [first, last] = cli::run_demo_mlp(options, out);
  EXPECT_LT(last, first / 20) << out.str();  // about 90x for this seed
  EXPECT_NE(out.str().find("step   200"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("final loss"), std::string::npos) << out.str();
}

TEST_F(Cli, DemoMlpIsDeterministicForASeed) {
  cli::DemoMlpOptions options;
  options.steps = 20;
  options.hidden = 8;
  std::ostringstream a, b, c;
  cli::run_demo_mlp(options, a);
  cli::run_demo_mlp(options, b);
  EXPECT_EQ(a.str(), b.str());
  options.seed = 1;
  cli::run_demo_mlp(options, c);
  EXPECT_NE(a.str(), c.str());
}

// Same data and initial parameters on both devices (uniform gives the same bits), so the runs
// differ only by the rounding of cuBLAS and the CUDA math library.
TEST_F(Cli, DemoMlpOnCudaFollowsTheCpuRun) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device present";
  cli::DemoMlpOptions options;
  options.steps = 50;
  std::ostringstream cpu_out, cuda_out;
  auto [cpu_first, cpu_last] = cli::run_demo_mlp(options, cpu_out);
  options.device = "cuda";
  auto [cuda_first, cuda_last] = cli::run_demo_mlp(options, cuda_out);
  EXPECT_NEAR(cuda_first, cpu_first, 1e-5 * cpu_first) << cuda_out.str();
  EXPECT_NEAR(cuda_last, cpu_last, 1e-2 * cpu_last) << cpu_out.str() << cuda_out.str();
}

TEST_F(Cli, DemoMlpRejectsBadOptions) {
  cli::DemoMlpOptions options;
  std::ostringstream out;
  options.lr = -1.0;
  EXPECT_NE(error_of([&] { cli::run_demo_mlp(options, out); }).find("--lr"), std::string::npos);
  options.lr = 0.1;
  options.hidden = 0;
  EXPECT_NE(error_of([&] { cli::run_demo_mlp(options, out); }).find("--hidden"), std::string::npos);
  options.hidden = 8;
  options.device = "cuda";
  if (!cuda_available()) {
    std::string error = error_of([&] { cli::run_demo_mlp(options, out); });
    EXPECT_NE(error.find("needs a CUDA device"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace osprey
