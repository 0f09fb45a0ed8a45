// Training-step benchmarks of issue 3, each against PyTorch measured in the same run.
//
// A training step is: zero grads, forward, cross-entropy, backward, SGD step (lr 0.01, momentum
// 0.9), on a model built by models::build_model from a ModelSpec, with random images and fixed
// labels. Cases (--device picks the set):
//   cpu:  resnet50_224      ResNet-50, batch 8, 3×224², 1000 classes          goal ≥ 1.2× PyTorch
//         resnet18_64       ResNet-18 (ImageNet stem), batch 32, 3×64², 10    goal ≥ 1.0× PyTorch
//         resnet20_28       CIFAR ResNet-20, batch 128, 1×28², 10 classes     (reported only)
//   cuda: resnet50_224_fp32 ResNet-50, batch 64, 3×224², fp32, weight decay 1e-4   goal ≥ 1.0×
//         resnet50_224_tf32 same with TF32 convolutions and matrix products        goal ≥ 1.0×
//         dcn_v2_conv5      deform_conv2d v2 forward and forward+backward at 8×512×32², 3×3,
//                           512 out, beside our conv2d on the same shape: goal fwd+bwd ≤ 1.3×
//                           our dense conv (issue 3's GPU goal); both also against PyTorch
// The PyTorch side runs as a child process in the same run:
//   cpu:  /usr/bin/python3 bench/reference/torch_train_step.py --serve CASE (the same networks
//         written out in PyTorch, the same threads), one process per case, which runs one step
//         per request: its steps alternate with ours (ours first in even rounds, its first in odd
//         ones), so that load from other work on the machine falls on both alike;
//   cuda: python3 bench/reference/torch_gpu_anchors.py --only … (a copy of the project's shared
//         GPU anchor script, so that it travels with the checkout to the GPU machine).
// Timing: CPU as the reference script's own protocol applied to the pair (`warmup` steps each,
// the first timed, then N rounds with N = target_s / the slower first step, clamped to
// [min_reps, max_reps]; the medians); GPU as the anchor script (5 warm-up calls, then 15 steps or
// 20 op calls, each followed by a device synchronisation; the median). The final table gives both
// throughputs, Osprey's speed relative to PyTorch's (> 1: Osprey is faster) and the goal; CPU
// rows also note the ratio of the two best steps, the steadier figure when other work shares
// the machine, and the CPU time per step of each process (all threads; steadier under load).
//
// --threads applies to the CPU cases only (OpenMP and OpenBLAS here, torch.set_num_threads there).
// Like Osprey's other programs this one runs with OMP_WAIT_POLICY=PASSIVE unless the variable is
// set (framework/core/thread_environment.h), and the PyTorch process inherits the same policy.
// --torch-default-wait gives PyTorch libgomp's default (spin, then sleep) instead when the user
// set none. On the shared 2-core machine that default made PyTorch's alternated steps erratic
// (ResNet-18 at 64²: ~10 img/s alternated against ~320 img/s alone), so it is not the default.
//
//   ./build/bench/train_step_bench [--device=cpu|cuda] [--cases=a,b] [--threads=2] [--warmup=2]
//       [--target-s=10] [--min-reps=5] [--max-reps=50] [--no-reference] [--python=PATH]
//       [--reference-script=PATH] [--torch-default-wait]
// Exits 0 after printing the table (a missed goal is reported, not an error); non-zero on bad
// arguments or when an Osprey case throws.
#include <fmt/format.h>
#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_support.h"
#include "framework/core/backend.h"
#include "framework/core/tensor.h"
#include "framework/core/thread_environment.h"
#include "framework/optim/sgd.h"
#include "models/model_factory.h"
#include "ops/deform_conv2d/deform_conv2d.h"
#include "ops/ops.h"

#if defined(OSPREY_WITH_CUDA)
#include "framework/cuda/context.h"
#endif

extern "C" void openblas_set_num_threads(int num_threads);

namespace {

using namespace osprey;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
// Set when OMP_WAIT_POLICY was not set by the user (see main).
constexpr const char* kTorchDefaultWait = "OSPREY_TRAIN_STEP_BENCH_TORCH_DEFAULT_WAIT";

struct Args {
  std::string device = "cpu";
  std::vector<std::string> cases;
  int threads = 2;
  int warmup = 2;
  double target_s = 10.0;
  int min_reps = 5;
  int max_reps = 50;
  bool reference = true;
  bool torch_default_wait = false;
  std::string python;
  std::string script;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    const std::string key = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key == "--device")
      args.device = value;
    else if (key == "--cases")
      args.cases = split(value, ',');
    else if (key == "--threads")
      args.threads = std::stoi(value);
    else if (key == "--warmup")
      args.warmup = std::max(1, std::stoi(value));
    else if (key == "--target-s")
      args.target_s = std::stod(value);
    else if (key == "--min-reps")
      args.min_reps = std::stoi(value);
    else if (key == "--max-reps")
      args.max_reps = std::stoi(value);
    else if (key == "--torch-default-wait")
      args.torch_default_wait = true;
    else if (key == "--no-reference")
      args.reference = false;
    else if (key == "--python")
      args.python = value;
    else if (key == "--reference-script")
      args.script = value;
    else
      throw std::invalid_argument(fmt::format("unknown argument '{}'", arg));
  }
  if (args.device != "cpu" && args.device != "cuda")
    throw std::invalid_argument(fmt::format("--device must be cpu or cuda, got '{}'", args.device));
  return args;
}

// --- timing ---------------------------------------------------------------------------------

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds of all this process's threads: on a machine shared with other work, CPU time per
// step moves less than wall time (it leaves out waiting for a core, though also parallel idling).
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The median, or NaN when any value is (a reference script that does not report CPU time).
double median_or_nan(std::vector<double> values) {
  if (values.empty() ||
      std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); }))
    return kNan;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Timing {
  double median_s = kNan;
  double best_s = kNan;
  int reps = 0;
  double cpu_median_s = kNan;  // CPU seconds of all the process's threads per step (alternated)
};

Timing summarise(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front(), static_cast<int>(times.size())};
}

// The reference script's protocol (see the file comment).
Timing measure_cpu(const std::function<void()>& fn, const Args& args) {
  auto start = std::chrono::steady_clock::now();
  fn();
  const double first = seconds_since(start);
  for (int i = 1; i < args.warmup; ++i) fn();
  const int reps = std::clamp(static_cast<int>(args.target_s / std::max(first, 1e-6)),
                              args.min_reps, std::max(args.min_reps, args.max_reps));
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    start = std::chrono::steady_clock::now();
    fn();
    times.push_back(seconds_since(start));
  }
  return summarise(times);
}

// The GPU anchor script's protocol: warm-up calls, then timed calls each ending in a device
// synchronisation.
Timing measure_gpu(const std::function<void()>& fn, int iters, int warm = 5) {
  Backend& cuda = backend(DeviceType::cuda);
  for (int i = 0; i < warm; ++i) fn();
  cuda.synchronize(Device::cuda());
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    cuda.synchronize(Device::cuda());
    times.push_back(seconds_since(start));
  }
  return summarise(times);
}

void set_tf32(bool on) {
#if defined(OSPREY_WITH_CUDA)
  cuda::set_allow_tf32(on);
#else
  (void)on;
#endif
}

// --- the PyTorch reference ------------------------------------------------------------------

// One result line of a reference script: its case name and the text of its JSON object.
using ReferenceResults = std::map<std::string, std::string>;

std::optional<double> json_number(const std::string& json, const std::string& key) {
  auto pos = json.find("\"" + key + "\"");
  if (pos == std::string::npos) return std::nullopt;
  pos = json.find(':', pos);
  if (pos == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(json.c_str() + pos + 1, &end);
  if (end == json.c_str() + pos + 1) return std::nullopt;
  return value;
}

std::string find_script(const Args& args, const std::string& name) {
  if (!args.script.empty()) return args.script;
  return osprey::bench::reference_script(name);
}

// Runs the command, echoes its output indented, and collects its result lines: "RESULT {json}"
// (CPU script, keyed by the object's "name") or "<case> {json}" (GPU anchor script).
ReferenceResults run_reference(const std::string& command) {
  ReferenceResults results;
  fmt::print("  [pytorch] $ {}\n", command);
  std::fflush(stdout);
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    fmt::print("  [pytorch] could not start the reference\n");
    return results;
  }
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    fmt::print("  [pytorch] {}\n", line);
    std::fflush(stdout);
    const auto brace = line.find('{');
    if (brace == std::string::npos || brace == 0) continue;
    std::string head = line.substr(0, brace);
    while (!head.empty() && head.back() == ' ') head.pop_back();
    const std::string json = line.substr(brace);
    if (head == "RESULT") {
      const auto name_at = json.find("\"name\": \"");
      if (name_at == std::string::npos) continue;
      const auto start = name_at + 9;
      results[json.substr(start, json.find('"', start) - start)] = json;
    } else if (head.find(' ') == std::string::npos) {
      results[head] = json;
    }
  }
  const int status = pclose(pipe);
  if (status != 0) fmt::print("  [pytorch] exited with status {}\n", status);
  return results;
}

std::string python_for(const Args& args) {
  if (!args.python.empty()) return args.python;
  // Debian's interpreter carries python3-torch on the CPU machine; the GPU machine's plain
  // python3 is the one with a CUDA PyTorch.
  if (args.device == "cpu" && std::filesystem::exists("/usr/bin/python3"))
    return "/usr/bin/python3";
  return "python3";
}

// A reference process driven line by line: the CPU reference script in --serve mode, which
// runs one step per "step" request and answers "STEP <ms>".
class Child {
 public:
  Child(const std::vector<std::string>& argv, bool default_wait) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], STDIN_FILENO);
      dup2(from_child[1], STDOUT_FILENO);
      // --torch-default-wait: libgomp's default policy for PyTorch instead of the passive one
      // this program gave itself (when the user set no policy).
      if (default_wait && std::getenv(kTorchDefaultWait) != nullptr) unsetenv("OMP_WAIT_POLICY");
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) close(fd);
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      std::fprintf(stderr, "train_step_bench: cannot run %s\n", args[0]);
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(from_child[0], "r");
  }
  ~Child() {
    if (to_ != nullptr) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_ != nullptr) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The next output line (echoed, indented), or nullopt when the child has gone.
  std::optional<std::string> read_line() {
    char buffer[4096];
    if (from_ == nullptr || std::fgets(buffer, sizeof(buffer), from_) == nullptr) return {};
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  // Reads lines until one starts with `prefix`; returns the rest of it.
  std::optional<std::string> expect(const std::string& prefix) {
    while (auto line = read_line()) {
      if (line->rfind(prefix, 0) == 0) return line->substr(prefix.size());
      fmt::print("  [pytorch] {}\n", *line);
    }
    return {};
  }
  // One step on the child's side, in seconds; NaN when the child has gone. The CPU seconds of
  // all its threads in that step (NaN from a script that does not report them) go to last_cpu_s.
  double step() {
    last_cpu_s = kNan;
    if (to_ == nullptr || std::fputs("step\n", to_) < 0 || std::fflush(to_) != 0) return kNan;
    const auto ms = expect("STEP ");
    if (!ms) return kNan;
    size_t used = 0;
    const double wall_ms = std::stod(*ms, &used);
    if (const char* rest = ms->c_str() + used; *rest == ' ') last_cpu_s = std::atof(rest) / 1e3;
    return wall_ms / 1e3;
  }
  double last_cpu_s = kNan;

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// Osprey's and PyTorch's steps in alternation (Osprey first in even rounds, PyTorch first in odd
// ones), so that load from other work on the machine falls on both alike. The protocol of the
// reference script applied to the pair: `warmup` steps each, the first timed, then N rounds with
// N = target_s / the slower first step, clamped to [min_reps, max_reps].
std::pair<Timing, Timing> measure_cpu_alternating(const std::function<void()>& fn, Child& torch,
                                                  const Args& args) {
  std::vector<double> ours_cpu, theirs_cpu;
  const auto time_ours = [&] {
    const double cpu0 = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    fn();
    ours_cpu.push_back(process_cpu_seconds() - cpu0);
    return seconds_since(start);
  };
  const auto time_theirs = [&] {
    const double s = torch.step();
    theirs_cpu.push_back(torch.last_cpu_s);
    return s;
  };
  const double first_ours = time_ours(), first_theirs = time_theirs();
  if (std::isnan(first_theirs)) throw std::runtime_error("the PyTorch reference process stopped");
  const double first = std::max(first_ours, first_theirs);
  for (int i = 1; i < args.warmup; ++i) {
    fn();
    torch.step();
  }
  const int reps = std::clamp(static_cast<int>(args.target_s / std::max(first, 1e-6)),
                              args.min_reps, std::max(args.min_reps, args.max_reps));
  std::vector<double> ours, theirs;
  ours_cpu.clear();
  theirs_cpu.clear();
  for (int i = 0; i < reps; ++i) {
    if (i % 2 == 0) {
      ours.push_back(time_ours());
      theirs.push_back(time_theirs());
    } else {
      theirs.push_back(time_theirs());
      ours.push_back(time_ours());
    }
    if (std::isnan(theirs.back()))
      throw std::runtime_error("the PyTorch reference process stopped");
  }
  std::pair<Timing, Timing> result{summarise(ours), summarise(theirs)};
  result.first.cpu_median_s = median_or_nan(ours_cpu);
  result.second.cpu_median_s = median_or_nan(theirs_cpu);
  return result;
}

// --- the table ------------------------------------------------------------------------------

struct Row {
  std::string name;
  std::string unit;  // "img/s" (higher is better) or "ms" (lower is better)
  double osprey = kNan;
  double torch = kNan;
  std::string goal;              // "" when the row has none
  std::optional<bool> goal_met;  // unset when the goal could not be evaluated
  std::string note;
};

// Osprey's speed relative to PyTorch's: > 1 means Osprey is faster.
double speed_ratio(const Row& row) {
  return row.unit == "img/s" ? row.osprey / row.torch : row.torch / row.osprey;
}

std::string number(double value) {
  if (std::isnan(value)) return "n/a";
  return value >= 100 ? fmt::format("{:.1f}", value) : fmt::format("{:.3g}", value);
}

void print_table(const std::vector<Row>& rows, const std::string& title) {
  fmt::print("\n{}\n", title);
  fmt::print("{:<26} {:>6} {:>10} {:>10} {:>9}  {:<34} {}\n", "case", "unit", "osprey", "pytorch",
             "vs torch", "goal", "result");
  for (const Row& row : rows) {
    const double ratio = speed_ratio(row);
    const std::string result =
        row.goal.empty() ? "-" : (!row.goal_met ? "n/a" : (*row.goal_met ? "PASS" : "MISS"));
    fmt::print("{:<26} {:>6} {:>10} {:>10} {:>9}  {:<34} {}{}\n", row.name, row.unit,
               number(row.osprey), number(row.torch),
               std::isnan(ratio) ? "n/a" : fmt::format("{:.2f}x", ratio),
               row.goal.empty() ? "-" : row.goal, result, row.note.empty() ? "" : "  " + row.note);
  }
  fmt::print("(vs torch: Osprey's speed / PyTorch's, both measured in this run; > 1 = faster)\n");
  std::fflush(stdout);
}

// --- the training-step cases ----------------------------------------------------------------

struct StepCase {
  std::string name;
  std::string reference_name;  // the reference script's case name
  std::string preset;
  int64_t in_channels, size, batch, classes;
  double weight_decay;
  bool tf32;
  double goal;  // minimum speed relative to PyTorch; 0: none
};

const std::vector<StepCase>& step_cases() {
  static const std::vector<StepCase> cases = {
      {"resnet50_224", "resnet50_224", "resnet50", 3, 224, 8, 1000, 0.0, false, 1.2},
      {"resnet18_64", "resnet18_64", "resnet18", 3, 64, 32, 10, 0.0, false, 1.0},
      {"resnet20_28", "resnet20_28", "resnet20", 1, 28, 128, 10, 0.0, false, 0.0},
      {"resnet50_224_fp32", "resnet50_224_fp32", "resnet50", 3, 224, 64, 1000, 1e-4, false, 1.0},
      {"resnet50_224_tf32", "resnet50_224_tf32", "resnet50", 3, 224, 64, 1000, 1e-4, true, 1.0},
  };
  return cases;
}

struct StepResult {
  Timing timing;
  std::optional<Timing> torch;  // CPU: PyTorch's steps, alternated with ours
  int64_t params = 0;
};

// `torch`: the CPU reference process serving this case, whose steps alternate with ours.
StepResult run_step_case(const StepCase& c, const Args& args, Child* torch) {
  const Device device = args.device == "cuda" ? Device::cuda() : Device::cpu();
  set_tf32(c.tf32);
  proto::ModelSpec spec;
  spec.mutable_backbone()->set_preset(c.preset);
  spec.mutable_backbone()->set_in_channels(static_cast<int32_t>(c.in_channels));
  spec.mutable_classification_head()->set_num_classes(static_cast<int32_t>(c.classes));
  random::Generator generator(0);
  auto model = models::build_model(spec, generator);
  model->to(device);
  model->train();
  const Tensor images = ops::normal({c.batch, c.in_channels, c.size, c.size}, 0.0, 1.0, generator,
                                    DType::f32, device);
  std::vector<int64_t> label_values(static_cast<size_t>(c.batch));
  for (int64_t i = 0; i < c.batch; ++i) label_values[static_cast<size_t>(i)] = i % c.classes;
  const Tensor labels = Tensor::from_vector(label_values, {c.batch}, device);
  optim::SgdOptions options;
  options.lr = 0.01;
  options.momentum = 0.9;
  options.weight_decay = c.weight_decay;
  optim::Sgd optimizer(model->named_parameters(), options);
  const auto step = [&] {
    optimizer.zero_grad();
    ops::cross_entropy((*model)(images), labels).backward();
    optimizer.step();
  };
  StepResult result;
  result.params = model->parameter_count();
  if (args.device == "cuda")
    result.timing = measure_gpu(step, 15);
  else if (torch != nullptr)
    std::tie(result.timing, result.torch) = measure_cpu_alternating(step, *torch, args);
  else
    result.timing = measure_cpu(step, args);
  set_tf32(false);
  return result;
}

Row step_row(const StepCase& c, const StepResult& ours, const ReferenceResults& reference) {
  Row row;
  row.name = c.name;
  row.unit = "img/s";
  row.osprey = static_cast<double>(c.batch) / ours.timing.median_s;
  row.note = fmt::format("{:.1f} ms/step, {} steps", ours.timing.median_s * 1e3, ours.timing.reps);
  if (auto it = reference.find(c.reference_name); it != reference.end()) {
    row.torch = json_number(it->second, "img_per_s").value_or(kNan);
    // The best step is the one least disturbed by other load; on a busy machine its ratio is the
    // steadier of the two.
    if (auto best_ms = json_number(it->second, "min_ms"))
      row.note += fmt::format(", best step {:.2f}x", *best_ms / (ours.timing.best_s * 1e3));
    // CPU time per step (alternated runs only), the other steadier figure under load.
    if (ours.torch && !std::isnan(ours.timing.cpu_median_s) &&
        !std::isnan(ours.torch->cpu_median_s)) {
      row.note += fmt::format(", CPU/step {:.0f} vs {:.0f} ms: {:.2f}x",
                              ours.timing.cpu_median_s * 1e3, ours.torch->cpu_median_s * 1e3,
                              ours.torch->cpu_median_s / ours.timing.cpu_median_s);
    }
    if (auto params = json_number(it->second, "params")) {
      if (static_cast<int64_t>(*params) != ours.params)
        row.note += fmt::format("; PARAMS DIFFER: osprey {} pytorch {}", ours.params,
                                static_cast<int64_t>(*params));
      else
        row.note += fmt::format("; params {} both", ours.params);
    }
  }
  if (c.goal > 0) {
    row.goal = fmt::format(">= {:.1f}x pytorch", c.goal);
    const double ratio = speed_ratio(row);
    if (!std::isnan(ratio)) row.goal_met = ratio >= c.goal;
  }
  return row;
}

// --- deform_conv2d against conv2d on the GPU ------------------------------------------------

struct OpTimes {
  double fwd_ms = kNan, fwd_bwd_ms = kNan;
  std::string error;
};

// The anchor script's shapes and values: x, weight, offset (×2) and mask all need gradients;
// fwd+bwd is out.sum().backward() (gradients accumulate over calls there as here).
std::pair<OpTimes, OpTimes> run_dcn_case() {
  const Device gpu = Device::cuda();
  random::Generator generator(0);
  const int64_t n = 8, c = 512, h = 32, w = 32, o = 512;
  Tensor x = ops::normal({n, c, h, w}, 0.0, 1.0, generator, DType::f32, gpu);
  Tensor weight = ops::normal({o, c, 3, 3}, 0.0, 0.01, generator, DType::f32, gpu);
  Tensor offset = ops::normal({n, 18, h, w}, 0.0, 2.0, generator, DType::f32, gpu);
  Tensor mask = ops::uniform({n, 9, h, w}, 0.0, 1.0, generator, DType::f32, gpu);
  for (Tensor* t : {&x, &weight, &offset, &mask}) t->set_requires_grad(true);
  set_tf32(false);
  const auto time_pair = [](const std::function<Tensor()>& forward) {
    OpTimes times;
    try {
      times.fwd_ms = measure_gpu([&] { (void)forward(); }, 20).median_s * 1e3;
      times.fwd_bwd_ms = measure_gpu([&] { ops::sum(forward()).backward(); }, 20).median_s * 1e3;
    } catch (const std::exception& e) {
      times.error = e.what();
    }
    return times;
  };
  OpTimes dcn = time_pair([&] {
    return ops::deform_conv2d(x, offset, weight, {}, mask, {1, 1}, {1, 1});
  });
  OpTimes conv = time_pair([&] { return ops::conv2d(x, weight, {}, {1, 1}, {1, 1}); });
  return {dcn, conv};
}

std::vector<Row> dcn_rows(const OpTimes& dcn, const OpTimes& conv,
                          const ReferenceResults& reference) {
  const auto torch_ms = [&](const std::string& name, const std::string& key) {
    auto it = reference.find(name);
    return it == reference.end() ? kNan : json_number(it->second, key).value_or(kNan);
  };
  const auto first_line = [](const std::string& text) { return text.substr(0, text.find('\n')); };
  std::vector<Row> rows;
  Row row;
  row.unit = "ms";
  row.name = "dcn_v2_conv5 fwd";
  row.osprey = dcn.fwd_ms;
  row.torch = torch_ms("dcn_v2", "fwd_ms");
  row.note = dcn.error.empty() ? "" : "skipped: " + first_line(dcn.error);
  rows.push_back(row);
  row.name = "dcn_v2_conv5 fwd+bwd";
  row.osprey = dcn.fwd_bwd_ms;
  row.torch = torch_ms("dcn_v2", "fwd_bwd_ms");
  const double vs_dense = dcn.fwd_bwd_ms / conv.fwd_bwd_ms;
  row.goal = "<= 1.3x our conv2d fwd+bwd";
  if (!dcn.error.empty()) {
    row.note = "skipped: " + first_line(dcn.error);
  } else if (!std::isnan(vs_dense)) {
    row.goal_met = vs_dense <= 1.3;
    row.note = fmt::format("dcn/conv = {:.2f}", vs_dense);
  }
  rows.push_back(row);
  row = Row{};
  row.unit = "ms";
  row.name = "conv2d_conv5 fwd";
  row.osprey = conv.fwd_ms;
  row.torch = torch_ms("conv_same_shape", "fwd_ms");
  row.note = conv.error.empty() ? "" : "skipped: " + first_line(conv.error);
  rows.push_back(row);
  row.name = "conv2d_conv5 fwd+bwd";
  row.osprey = conv.fwd_bwd_ms;
  row.torch = torch_ms("conv_same_shape", "fwd_bwd_ms");
  rows.push_back(row);
  return rows;
}

// Runs one training-step case; a failure becomes the row's note (and an exit status of 1 at the
// end), so the other cases still run and the table still prints.
// With `torch` (CPU), PyTorch's side is measured here, alternating with ours, and `reference`
// gets its result.
Row run_osprey_step(const StepCase& c, const Args& args, ReferenceResults reference,
                    Child* torch = nullptr, const std::string& torch_ready = "") {
  fmt::print("  [osprey] {} ...\n", c.name);
  std::fflush(stdout);
  try {
    const StepResult ours = run_step_case(c, args, torch);
    if (ours.torch) {
      reference[c.reference_name] =
          fmt::format(R"({{"img_per_s": {}, "min_ms": {}, "params": {}}})",
                      static_cast<double>(c.batch) / ours.torch->median_s, ours.torch->best_s * 1e3,
                      json_number(torch_ready, "params").value_or(-1));
      fmt::print("  [pytorch] {}: {:.2f} img/s ({:.1f} ms/step, median of {})\n", c.name,
                 static_cast<double>(c.batch) / ours.torch->median_s, ours.torch->median_s * 1e3,
                 ours.torch->reps);
    }
    Row row = step_row(c, ours, reference);
    fmt::print("  [osprey] {}: {:.2f} img/s ({:.1f} ms/step, median of {})\n", c.name, row.osprey,
               ours.timing.median_s * 1e3, ours.timing.reps);
    return row;
  } catch (const std::exception& e) {
    set_tf32(false);
    fmt::print("  [osprey] {} failed: {}\n", c.name, e.what());
    Row row = step_row(c, StepResult{}, reference);
    row.osprey = kNan;
    row.goal_met.reset();
    const std::string message = e.what();
    row.note = "FAILED: " + message.substr(0, message.find('\n'));
    return row;
  }
}

// --- the runs -------------------------------------------------------------------------------

const StepCase* find_step_case(const std::string& name) {
  for (const StepCase& c : step_cases())
    if (c.name == name) return &c;
  return nullptr;
}

int run_cpu(const Args& args) {
  const std::vector<std::string> names =
      args.cases.empty() ? std::vector<std::string>{"resnet50_224", "resnet18_64", "resnet20_28"}
                         : args.cases;
  std::vector<Row> rows;
  bool failed = false;
  const std::string script = find_script(args, "torch_train_step.py");
  for (const std::string& name : names) {
    const StepCase* c = find_step_case(name);
    if (c == nullptr || c->name.find("_fp32") != std::string::npos ||
        c->name.find("_tf32") != std::string::npos) {
      fmt::print(stderr, "train_step_bench: '{}' is not a CPU case\n", name);
      return 2;
    }
    std::unique_ptr<Child> torch;
    std::string ready;
    if (args.reference) {
      const std::vector<std::string> command = {python_for(args), script,
                                                "--threads",      std::to_string(args.threads),
                                                "--serve",        c->reference_name};
      std::string shown;
      for (const std::string& part : command) shown += (shown.empty() ? "" : " ") + part;
      fmt::print("  [pytorch] $ {}\n", shown);
      std::fflush(stdout);
      torch = std::make_unique<Child>(command, args.torch_default_wait);
      if (auto line = torch->expect("READY ")) {
        ready = *line;
      } else {
        fmt::print("  [pytorch] the reference did not start; Osprey runs alone\n");
        torch.reset();
      }
    }
    rows.push_back(run_osprey_step(*c, args, {}, torch.get(), ready));
    failed = failed || std::isnan(rows.back().osprey);
  }
  print_table(rows, fmt::format("train_step_bench (cpu, {} threads both)", args.threads));
  return failed ? 1 : 0;
}

int run_gpu(const Args& args) {
  if (!cuda_available()) {
    fmt::print("train_step_bench: skipped, no CUDA device present (or a CPU-only build)\n");
    return 0;
  }
  const std::vector<std::string> names =
      args.cases.empty()
          ? std::vector<std::string>{"resnet50_224_fp32", "resnet50_224_tf32", "dcn_v2_conv5"}
          : args.cases;
  std::vector<std::string> reference_names;
  for (const std::string& name : names) {
    if (name == "dcn_v2_conv5") {
      reference_names.push_back("dcn_v2");
      reference_names.push_back("conv_same_shape");
    } else if (const StepCase* c = find_step_case(name);
               c != nullptr && c->name.find("_224_") != std::string::npos) {
      reference_names.push_back(c->reference_name);
    } else {
      fmt::print(stderr, "train_step_bench: '{}' is not a GPU case\n", name);
      return 2;
    }
  }
  ReferenceResults reference;
  if (args.reference) {
    std::string only;
    for (const std::string& name : reference_names) only += (only.empty() ? "" : ",") + name;
    reference = run_reference(fmt::format("{} {} --only {}", python_for(args),
                                          find_script(args, "torch_gpu_anchors.py"), only));
  }
  std::vector<Row> rows;
  bool failed = false;
  for (const std::string& name : names) {
    if (name == "dcn_v2_conv5") {
      fmt::print("  [osprey] {} ...\n", name);
      std::fflush(stdout);
      const auto [dcn, conv] = run_dcn_case();
      for (Row& row : dcn_rows(dcn, conv, reference)) rows.push_back(row);
      continue;
    }
    rows.push_back(run_osprey_step(*find_step_case(name), args, reference));
    failed = failed || std::isnan(rows.back().osprey);
  }
  print_table(rows, "train_step_bench (cuda, fp32 unless tf32)");
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Remembered across the re-exec below: the user chose no policy, so PyTorch gets its default.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) setenv(kTorchDefaultWait, "1", 1);
  osprey::use_passive_openmp_wait(argv);
  std::signal(SIGPIPE, SIG_IGN);  // a reference process that dies shows as a failed write
  try {
    const Args args = parse_args(argc, argv);
    if (args.device == "cpu") {
      omp_set_num_threads(args.threads);
      openblas_set_num_threads(args.threads);
    }
    return args.device == "cuda" ? run_gpu(args) : run_cpu(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step_bench: %s\n", e.what());
    return 1;
  }
}
