#include "experiments/spec/validate.h"

#include <map>
#include <mutex>

#include "experiments/spec/detection_data.h"
#include "experiments/spec/kernel_overrides.h"
#include "framework/core/error.h"

namespace osprey::experiments {
namespace {

// Collects "path: message" problems.
class Checker {
 public:
  explicit Checker(std::vector<std::string>& problems) : problems_(problems) {}

  template <typename... Args>
  void fail(const std::string& path, fmt::format_string<Args...> format, Args&&... args) {
    problems_.push_back(
        fmt::format("{}: {}", path, fmt::format(format, std::forward<Args>(args)...)));
  }
  void raw(std::string problem) { problems_.push_back(std::move(problem)); }
  template <typename T>
  void positive(const std::string& path, T value) {
    if (!(value > 0)) fail(path, "must be > 0 (got {})", value);
  }
  template <typename T>
  void non_negative(const std::string& path, T value) {
    if (!(value >= 0)) fail(path, "must be >= 0 (got {})", value);
  }
  void fraction(const std::string& path, double value) {
    if (!(value >= 0 && value < 1)) fail(path, "must be in [0, 1) (got {})", value);
  }

 private:
  std::vector<std::string>& problems_;
};

std::string at(const std::string& path, int index) {
  return fmt::format("{}[{}]", path, index);
}

void check_data(Checker& c, const std::string& p, const proto::DataSpec& data,
                std::vector<std::string>& problems) {
  if (data.has_detection()) {
    if (!data.dataset().empty())
      c.fail(p + ".dataset", "set either dataset or detection (got both)");
    detection_data_problems(data.detection(), p + ".detection", problems);
  } else if (data.dataset().empty()) {
    c.fail(p + ".dataset", "must be set");
  }
  c.positive(p + ".batch_size", data.batch_size());
  c.non_negative(p + ".workers", data.workers());
  c.non_negative(p + ".limit", data.limit());
  if (!data.has_augment()) return;
  const auto& a = data.augment();
  const std::string ap = p + ".augment";
  c.non_negative(ap + ".pad", a.pad());
  if (a.mean_size() != a.std_size()) {
    c.fail(ap, "mean and std must have the same length (got {} and {})", a.mean_size(),
           a.std_size());
  }
  for (int i = 0; i < a.std_size(); ++i) c.positive(at(ap + ".std", i), a.std(i));
}

void check_schedule(Checker& c, const proto::SolverSpec& solver) {
  const std::string p = "solver.lr_schedule";
  const auto& s = solver.lr_schedule();
  const std::string policy = proto::LrPolicy_Name(s.policy());
  c.non_negative(p + ".warmup_iters", s.warmup_iters());
  if (!(s.warmup_factor() > 0 && s.warmup_factor() <= 1))
    c.fail(p + ".warmup_factor", "must be in (0, 1] (got {})", s.warmup_factor());
  switch (s.policy()) {
    case proto::CONSTANT:
      break;
    case proto::STEP:
      if (!s.has_step_size()) {
        c.fail(p + ".step_size", "required by policy {}", policy);
      } else {
        c.positive(p + ".step_size", s.step_size());
      }
      c.positive(p + ".gamma", s.gamma());
      break;
    case proto::MULTISTEP:
      if (s.milestones_size() == 0) c.fail(p + ".milestones", "required by policy {}", policy);
      for (int i = 0; i < s.milestones_size(); ++i) {
        c.positive(at(p + ".milestones", i), s.milestones(i));
        if (i > 0 && s.milestones(i) <= s.milestones(i - 1))
          c.fail(at(p + ".milestones", i), "must be greater than the previous milestone ({} <= {})",
                 s.milestones(i), s.milestones(i - 1));
      }
      c.positive(p + ".gamma", s.gamma());
      break;
    case proto::COSINE:
      c.non_negative(p + ".final_lr", s.final_lr());
      if (s.final_lr() > solver.base_lr())
        c.fail(p + ".final_lr", "must not exceed solver.base_lr ({} > {})", s.final_lr(),
               solver.base_lr());
      break;
    case proto::POLY:
      c.positive(p + ".power", s.power());
      break;
  }
}

void check_solver(Checker& c, const proto::SolverSpec& s) {
  c.positive("solver.base_lr", s.base_lr());
  c.non_negative("solver.weight_decay", s.weight_decay());
  c.non_negative("solver.clip_grad_norm", s.clip_grad_norm());
  if (s.type() == proto::SGD) {
    c.fraction("solver.momentum", s.momentum());
    if (s.nesterov() && !(s.momentum() > 0)) c.fail("solver.nesterov", "needs momentum > 0");
  } else {
    c.fraction("solver.beta1", s.beta1());
    c.fraction("solver.beta2", s.beta2());
    c.positive("solver.eps", s.eps());
  }
  c.non_negative("solver.max_iter", s.max_iter());
  c.non_negative("solver.epochs", s.epochs());
  if (s.max_iter() <= 0 && !(s.epochs() > 0)) {
    c.fail("solver", "one of max_iter or epochs must be set");
  } else if (s.max_iter() > 0 && s.epochs() > 0) {
    c.fail("solver", "set only one of max_iter ({}) and epochs ({})", s.max_iter(), s.epochs());
  }
  if (s.has_lr_schedule()) check_schedule(c, s);
  for (int i = 0; i < s.param_rule_size(); ++i) {
    const auto& rule = s.param_rule(i);
    const std::string p = at("solver.param_rule", i);
    if (rule.pattern().empty()) c.fail(p + ".pattern", "must be set");
    c.non_negative(p + ".lr_mult", rule.lr_mult());
    c.non_negative(p + ".decay_mult", rule.decay_mult());
  }
}

void check_transfer(Checker& c, const proto::Experiment& spec) {
  for (int i = 0; i < spec.init_from_size(); ++i) {
    const auto& init = spec.init_from(i);
    const std::string p = at("init_from", i);
    if (init.checkpoint().empty()) c.fail(p + ".checkpoint", "must be set");
    for (int j = 0; j < init.include_size(); ++j)
      if (init.include(j).empty()) c.fail(at(p + ".include", j), "must not be empty");
    for (int j = 0; j < init.exclude_size(); ++j)
      if (init.exclude(j).empty()) c.fail(at(p + ".exclude", j), "must not be empty");
    for (int j = 0; j < init.rename_size(); ++j)
      if (!init.rename(j).has_from() || !init.rename(j).has_to())
        c.fail(at(p + ".rename", j), "needs both from and to");
  }
  for (int i = 0; i < spec.freeze_size(); ++i)
    if (spec.freeze(i).empty()) c.fail(at("freeze", i), "must not be empty");
  const auto& registry = dispatch::Registry::instance();
  for (int i = 0; i < spec.kernel_size(); ++i) {
    std::string problem = kernel_override_problem(spec.kernel(i), registry);
    if (!problem.empty()) c.raw(at("kernel", i) + "." + problem);
  }
}

std::mutex validators_mutex;
std::map<int, SpecValidator>& validators() {
  static std::map<int, SpecValidator> map;
  return map;
}
int next_validator_id = 0;

}  // namespace

std::vector<std::string> spec_problems(const proto::Experiment& spec) {
  std::vector<std::string> problems;
  Checker c(problems);
  if (spec.name().empty() && spec.output_dir().empty())
    c.fail("name", "must be set (it names the run directory runs/<name>)");
  c.non_negative("device_index", spec.device_index());
  c.non_negative("threads", spec.threads());
  if (!spec.has_model()) c.fail("model", "must be set");
  if (!spec.has_train_data()) {
    c.fail("train_data", "must be set");
  } else {
    check_data(c, "train_data", spec.train_data(), problems);
  }
  if (spec.has_test_data()) check_data(c, "test_data", spec.test_data(), problems);
  if (!spec.has_solver()) {
    c.fail("solver", "must be set (with max_iter or epochs)");
  } else {
    check_solver(c, spec.solver());
  }
  if (spec.has_eval()) {
    c.non_negative("eval.every_iters", spec.eval().every_iters());
    c.positive("eval.batch_size", spec.eval().batch_size());
    for (int i = 0; i < spec.eval().top_k_size(); ++i)
      c.positive(at("eval.top_k", i), spec.eval().top_k(i));
  }
  if (spec.has_checkpoint()) {
    c.non_negative("checkpoint.every_iters", spec.checkpoint().every_iters());
    c.non_negative("checkpoint.keep_last", spec.checkpoint().keep_last());
  }
  if (spec.has_logging()) c.non_negative("logging.every_iters", spec.logging().every_iters());
  check_transfer(c, spec);

  std::vector<SpecValidator> extra;
  {
    std::lock_guard<std::mutex> lock(validators_mutex);
    for (const auto& [id, validator] : validators()) extra.push_back(validator);
  }
  for (const auto& validator : extra) validator(spec, problems);
  return problems;
}

void validate_spec(const proto::Experiment& spec, const std::string& origin) {
  std::vector<std::string> problems = spec_problems(spec);
  if (problems.empty()) return;
  OSPREY_THROW(value, "{}: invalid spec:\n  {}", origin, fmt::join(problems, "\n  "));
}

int add_spec_validator(SpecValidator validator) {
  std::lock_guard<std::mutex> lock(validators_mutex);
  int id = next_validator_id++;
  validators().emplace(id, std::move(validator));
  return id;
}

void remove_spec_validator(int id) {
  std::lock_guard<std::mutex> lock(validators_mutex);
  validators().erase(id);
}

}  // namespace osprey::experiments
