#include "experiments/train/run_setup.h"

#include <google/protobuf/text_format.h>

#include <cmath>

#include "data/fashion_mnist/fashion_mnist.h"
#include "framework/core/error.h"
#include "framework/optim/adamw.h"
#include "framework/optim/param_groups.h"
#include "framework/optim/sgd.h"

namespace osprey::experiments {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

optim::LrPolicy to_policy(proto::LrPolicy policy) {
  switch (policy) {
    case proto::CONSTANT:
      return optim::LrPolicy::constant;
    case proto::STEP:
      return optim::LrPolicy::step;
    case proto::MULTISTEP:
      return optim::LrPolicy::multistep;
    case proto::COSINE:
      return optim::LrPolicy::cosine;
    case proto::POLY:
      return optim::LrPolicy::poly;
  }
  OSPREY_THROW(value, "solver.lr_schedule.policy: unknown value {}", static_cast<int>(policy));
}

}  // namespace

uint64_t derive_seed(uint64_t seed, std::string_view role) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a of the role name
  for (char c : role) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return splitmix64(seed ^ splitmix64(h));
}

std::shared_ptr<const data::Dataset> make_dataset(const proto::DataSpec& spec,
                                                  const std::string& field) {
  OSPREY_CHECK(!spec.has_detection(),
               "{}.detection: osprey train trains classifiers; detection training is not built yet "
               "(the spec's detection data can be read with osprey dataset stats)",
               field);
  OSPREY_CHECK(spec.dataset() == "fashion_mnist",
               "{}.dataset: unknown dataset '{}' (known: fashion_mnist)", field, spec.dataset());
  OSPREY_CHECK(spec.split() == "train" || spec.split() == "test",
               "{}.split must be 'train' or 'test', got '{}'", field, spec.split());
  OSPREY_CHECK(spec.limit() >= 0, "{}.limit must be non-negative, got {}", field, spec.limit());
  std::string root = spec.has_root() ? spec.root() : data::kFashionMnistDefaultDir;
  data::FashionMnistData all = data::read_fashion_mnist(root, spec.split());
  int64_t n = all.labels.size(0);
  if (spec.limit() > 0 && spec.limit() < n) {
    all.images = all.images.narrow(0, 0, spec.limit()).contiguous();
    all.labels = all.labels.narrow(0, 0, spec.limit()).contiguous();
  }
  return std::make_shared<data::FashionMnistDataset>(std::move(all));
}

std::unique_ptr<data::DataLoader> make_loader(const proto::DataSpec& spec, uint64_t seed,
                                              bool train, int64_t batch_size,
                                              const std::string& field) {
  OSPREY_CHECK(batch_size >= 1, "{}.batch_size must be at least 1, got {}", field, batch_size);
  OSPREY_CHECK(spec.workers() >= 0, "{}.workers must be non-negative, got {}", field,
               spec.workers());
  auto dataset = make_dataset(spec, field);
  const proto::AugmentSpec& augment = spec.augment();
  data::TransformConfig transform;
  transform.mean.assign(augment.mean().begin(), augment.mean().end());
  transform.std.assign(augment.std().begin(), augment.std().end());
  if (train) {
    transform.pad = augment.pad();
    transform.random_crop = augment.random_crop();
    transform.flip = augment.horizontal_flip();
    // A random crop takes the input's own size back out of the padded image.
    if (augment.random_crop()) transform.crop = data::kFashionMnistSide;
  }
  data::LoaderConfig config;
  config.batch_size = batch_size;
  config.shuffle = train && spec.shuffle();
  config.drop_last = train && spec.drop_last();
  config.workers = spec.workers();
  config.seed = seed;
  return std::make_unique<data::DataLoader>(
      std::move(dataset), data::ClassificationTransform(std::move(transform)), config);
}

int64_t resolve_max_iter(const proto::SolverSpec& solver, int64_t batches_per_epoch) {
  if (solver.max_iter() > 0) return solver.max_iter();
  OSPREY_CHECK(solver.epochs() > 0,
               "solver: set max_iter or epochs (both are 0, so the run has no length)");
  OSPREY_CHECK(batches_per_epoch > 0, "solver.epochs: the training data give no full batch");
  return static_cast<int64_t>(std::ceil(solver.epochs() * static_cast<double>(batches_per_epoch)));
}

optim::LrSchedule make_lr_schedule(const proto::SolverSpec& solver, int64_t max_iter) {
  const proto::LrSchedule& spec = solver.lr_schedule();
  optim::LrSchedule schedule;
  schedule.policy = to_policy(spec.policy());
  schedule.base_lr = solver.base_lr();
  schedule.gamma = spec.gamma();
  schedule.step_size = spec.step_size();
  schedule.milestones.assign(spec.milestones().begin(), spec.milestones().end());
  schedule.max_iters = max_iter;
  schedule.final_lr = spec.final_lr();
  schedule.power = spec.power();
  schedule.warmup_iters = spec.warmup_iters();
  schedule.warmup_start_factor = spec.warmup_iters() > 0 ? spec.warmup_factor() : 1.0;
  optim::validate(schedule);
  return schedule;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const proto::SolverSpec& solver,
                                                 const nn::NamedTensors& parameters) {
  optim::ParamGroupOptions groups;
  groups.no_decay_on_norm_and_bias = solver.no_decay_on_norm_and_bias();
  for (const auto& rule : solver.param_rule()) {
    groups.rules.push_back({rule.pattern(), rule.lr_mult(), rule.decay_mult()});
  }
  if (solver.type() == proto::ADAMW) {
    optim::AdamWOptions options;
    options.lr = solver.base_lr();
    options.beta1 = solver.beta1();
    options.beta2 = solver.beta2();
    options.eps = solver.eps();
    options.weight_decay = solver.weight_decay();
    return std::make_unique<optim::AdamW>(parameters, options, groups);
  }
  optim::SgdOptions options;
  options.lr = solver.base_lr();
  options.momentum = solver.momentum();
  options.nesterov = solver.nesterov();
  options.weight_decay = solver.weight_decay();
  return std::make_unique<optim::Sgd>(parameters, options, groups);
}

void apply_overrides(proto::Experiment& spec, const std::vector<std::string>& assignments) {
  for (const auto& assignment : assignments) {
    auto eq = assignment.find('=');
    OSPREY_CHECK(eq != std::string::npos && eq > 0,
                 "--set '{}': expected field.path=value (e.g. solver.max_iter=30)", assignment);
    std::string path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      size_t dot = path.find('.', start);
      parts.push_back(path.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::string text = parts.back() + ": " + value;
    for (size_t i = parts.size() - 1; i-- > 0;) text = parts[i] + " { " + text + " }";
    proto::Experiment patch;
    OSPREY_CHECK(google::protobuf::TextFormat::ParseFromString(text, &patch),
                 "--set '{}': not a valid field and value for the spec (parsed as '{}'); string "
                 "values need quotes, e.g. name=\"x\"",
                 assignment, text);
    // The run length is one of max_iter and epochs: setting one replaces the other.
    if (patch.solver().has_max_iter()) spec.mutable_solver()->clear_epochs();
    if (patch.solver().has_epochs()) spec.mutable_solver()->clear_max_iter();
    spec.MergeFrom(patch);
  }
}

}  // namespace osprey::experiments
