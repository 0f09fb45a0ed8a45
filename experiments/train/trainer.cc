#include "experiments/train/trainer.h"

#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "experiments/spec/kernel_overrides.h"
#include "experiments/spec/transfer.h"
#include "experiments/train/run_files.h"
#include "experiments/train/run_setup.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/error.h"
#include "framework/optim/grad_clip.h"
#include "ops/cross_entropy/cross_entropy.h"

namespace osprey::experiments {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCounterPrefix = "counter/";

Device device_of(const proto::Experiment& spec) {
  return spec.device() == proto::CUDA ? Device::cuda(spec.device_index()) : Device::cpu();
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void check_spec(const proto::Experiment& spec) {
  OSPREY_CHECK(spec.has_model(), "spec '{}': no model", spec.name());
  OSPREY_CHECK(spec.has_train_data(), "spec '{}': no train_data", spec.name());
  OSPREY_CHECK(spec.threads() >= 0, "threads must be non-negative, got {}", spec.threads());
  OSPREY_CHECK(spec.eval().every_iters() >= 0, "eval.every_iters must be non-negative, got {}",
               spec.eval().every_iters());
  OSPREY_CHECK(spec.checkpoint().every_iters() >= 0,
               "checkpoint.every_iters must be non-negative, got {}",
               spec.checkpoint().every_iters());
}

std::vector<std::string> metric_columns(const std::vector<int>& top_k) {
  std::vector<std::string> columns = {
      "epoch", "loss", "smoothed_loss", "lr", "images_per_second", "eval_loss"};
  for (int k : top_k) columns.push_back(fmt::format("eval_top{}", k));
  return columns;
}

}  // namespace

struct Trainer::ResumeFrom {
  proto::Checkpoint checkpoint;
  std::string path;
};

Trainer::Trainer(proto::Experiment spec, TrainerOptions options)
    : Trainer(std::move(spec), std::move(options), nullptr) {}

std::unique_ptr<Trainer> Trainer::resume(const std::string& run_dir, TrainerOptions options) {
  proto::Experiment spec = load_run_spec(run_dir);
  std::optional<std::string> latest = latest_run_checkpoint(run_dir);
  OSPREY_CHECK_KIND(not_found, latest.has_value(), "resume: {} has no checkpoint to continue from",
                    run_dir);
  ResumeFrom from{read_checkpoint(*latest), *latest};
  // The run continues where it is, wherever the saved spec said it was written.
  spec.set_output_dir(run_dir);
  return std::unique_ptr<Trainer>(new Trainer(std::move(spec), std::move(options), &from));
}

Trainer::~Trainer() = default;

Trainer::Trainer(proto::Experiment spec, TrainerOptions options, const ResumeFrom* resume)
    : spec_(std::move(spec)), options_(std::move(options)) {
  check_spec(spec_);
  if (!options_.build_model) options_.build_model = default_model_builder();
  run_dir_ = run_dir_of(spec_);
  if (!resume) {
    OSPREY_CHECK(!latest_run_checkpoint(run_dir_).has_value(),
                 "{} already holds a run with checkpoints: continue it with `osprey resume {}` or "
                 "choose another --output",
                 run_dir_, run_dir_);
  }
  if (spec_.threads() > 0) omp_set_num_threads(spec_.threads());
  device_ = device_of(spec_);
  input_format_ = spec_.model().memory_format() == proto::NHWC ? MemoryFormat::channels_last
                                                               : MemoryFormat::contiguous;

  // One stream per role (see the header).
  model_generator_.manual_seed(derive_seed(spec_.seed(), "model"));
  random::manual_seed(derive_seed(spec_.seed(), "default"));
  data_seed_ = derive_seed(spec_.seed(), "data");

  kernel_overrides_ = std::make_unique<KernelOverrideGuard>(spec_.kernel());
  model_ = options_.build_model(spec_.model(), model_generator_);
  OSPREY_CHECK(model_ != nullptr, "the model builder returned no model");
  model_->to(device_);
  model_->train();
  if (!resume) {
    for (const auto& init : spec_.init_from()) {
      apply_init_from(*model_, init,
                      [this](const std::string& line) { *options_.out << line << "\n"; });
    }
  }
  std::vector<std::string> frozen = apply_freeze(*model_, spec_.freeze());
  if (!frozen.empty()) {
    *options_.out << fmt::format("frozen: {} parameters matching the spec's freeze patterns\n",
                                 frozen.size());
  }

  const proto::DataSpec& train_data = spec_.train_data();
  train_loader_ =
      make_loader(train_data, data_seed_, /*train=*/true, train_data.batch_size(), "train_data");
  OSPREY_CHECK(train_loader_->batches_per_epoch() > 0,
               "train_data: {} examples make no full batch of {} (drop_last is on)",
               train_loader_->dataset().size(), train_data.batch_size());
  if (spec_.has_test_data()) {
    test_loader_ = make_loader(spec_.test_data(), data_seed_, /*train=*/false,
                               spec_.eval().batch_size(), "test_data");
  }
  top_k_.assign(spec_.eval().top_k().begin(), spec_.eval().top_k().end());
  if (top_k_.empty()) top_k_ = {1, 5};

  max_iter_ = resolve_max_iter(spec_.solver(), train_loader_->batches_per_epoch());
  schedule_ = make_lr_schedule(spec_.solver(), max_iter_);
  for (const auto& [name, tensor] : model_->named_parameters()) {
    if (tensor.requires_grad()) trainable_.emplace_back(name, tensor);
  }
  OSPREY_CHECK(!trainable_.empty(), "spec '{}': every parameter is frozen, nothing to train",
               spec_.name());
  optimizer_ = make_optimizer(spec_.solver(), trainable_);

  fs::create_directories(run_dir_);
  if (resume) {
    restore(resume->checkpoint, resume->path);
    MetricsWriter::truncate_after(run_dir_, iteration_);
  } else {
    // Metrics of an earlier attempt that never reached a checkpoint belong to no run.
    fs::remove(fs::path(run_dir_) / "metrics.csv");
    fs::remove(fs::path(run_dir_) / "metrics.jsonl");
    save_run_spec(spec_, run_dir_);
  }
  metrics_ = std::make_unique<MetricsWriter>(run_dir_, metric_columns(top_k_));
  display_ = std::make_unique<ProgressDisplay>(*options_.out, spec_.logging().progress(),
                                               std::max<int64_t>(1, spec_.logging().every_iters()));
}

proto::Checkpoint Trainer::make_checkpoint() const {
  proto::Checkpoint checkpoint;
  *checkpoint.mutable_spec() = spec_;
  checkpoint.set_iteration(iteration_);
  add_tensors(model_->state_dict(), checkpoint.mutable_model());
  optim::OptimizerState state = optimizer_->state();
  proto::OptimizerState* saved = checkpoint.mutable_optimizer();
  saved->set_type(spec_.solver().type());
  saved->set_step(optimizer_->steps());
  nn::NamedTensors tensors(state.tensors.begin(), state.tensors.end());
  for (const auto& [name, value] : state.counters) {
    tensors.emplace_back(kCounterPrefix + name, Tensor::scalar<int64_t>(value));
  }
  add_tensors(tensors, saved->mutable_tensors());
  auto& rng = *checkpoint.mutable_rng_state();
  rng["model"] = model_generator_.state().str();
  rng["default"] = random::default_generator().state().str();
  rng["data"] = random::GeneratorState{data_seed_, 0}.str();
  data::LoaderPosition position = train_loader_->position();
  checkpoint.mutable_data_position()->set_epoch(position.epoch);
  checkpoint.mutable_data_position()->set_batch_in_epoch(position.batch);
  checkpoint.set_created_at(utc_now());
  for (const auto& [name, value] : last_metrics_) (*checkpoint.mutable_metrics())[name] = value;
  return checkpoint;
}

void Trainer::restore(const proto::Checkpoint& checkpoint, const std::string& path) {
  model_->load_state_dict(read_tensors(checkpoint.model(), path), /*strict=*/true);
  optim::OptimizerState state;
  state.kind = optimizer_->kind();
  for (auto& [name, tensor] : read_tensors(checkpoint.optimizer().tensors(), path)) {
    if (name.starts_with(kCounterPrefix)) {
      state.counters[name.substr(std::string(kCounterPrefix).size())] = tensor.item<int64_t>();
    } else {
      state.tensors[name] = tensor;
    }
  }
  optimizer_->load_state(state);
  const auto& rng = checkpoint.rng_state();
  auto state_of = [&](const std::string& role) {
    auto it = rng.find(role);
    OSPREY_CHECK_KIND(io, it != rng.end(), "{}: no random state '{}'", path, role);
    return random::GeneratorState::parse(it->second);
  };
  model_generator_.set_state(state_of("model"));
  random::default_generator().set_state(state_of("default"));
  OSPREY_CHECK_KIND(io, state_of("data").seed == data_seed_,
                    "{}: the data seed differs from the spec's (was the spec edited?)", path);
  train_loader_->set_position(
      {checkpoint.data_position().epoch(), checkpoint.data_position().batch_in_epoch()});
  iteration_ = checkpoint.iteration();
  last_checkpoint_ = path;
  for (const auto& [name, value] : checkpoint.metrics()) last_metrics_[name] = value;
}

std::string Trainer::save_checkpoint() {
  last_checkpoint_ =
      save_run_checkpoint(run_dir_, make_checkpoint(), spec_.checkpoint().keep_last());
  return last_checkpoint_;
}

EvalResult Trainer::evaluate() {
  OSPREY_CHECK(test_loader_ != nullptr, "spec '{}': no test_data to evaluate on", spec_.name());
  return evaluate_classifier(*model_, *test_loader_, top_k_, device_, input_format_);
}

EvalResult Trainer::evaluate_and_record() {
  EvalResult result = evaluate();
  MetricsRecord record{iteration_, {{"eval_loss", result.mean_loss}}};
  last_metrics_["eval_loss"] = result.mean_loss;
  for (const auto& [k, value] : result.accuracy) {
    record.values[fmt::format("eval_top{}", k)] = value;
    last_metrics_[fmt::format("eval_top{}", k)] = value;
  }
  metrics_->write(record);
  display_->message(fmt::format("eval at iteration {}: {}", iteration_, result.summary()));
  return result;
}

void Trainer::stop_diverged(double loss) {
  std::optional<std::string> bad = optim::first_nonfinite_grad(trainable_);
  display_->finish();
  OSPREY_THROW(
      value,
      "training diverged at iteration {}: loss {}, first parameter with a non-finite "
      "gradient: {}. Stopped without writing a checkpoint; the last good one is {}",
      iteration_ + 1, loss, bad ? *bad : "none (every gradient is finite)",
      last_checkpoint_.empty() ? "none (no checkpoint was written yet)" : last_checkpoint_);
}

TrainResult Trainer::train() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const int64_t first_iteration = iteration_;
  const int64_t log_every = std::max<int64_t>(1, spec_.logging().every_iters());
  const int64_t eval_every = spec_.eval().every_iters();
  const int64_t checkpoint_every = spec_.checkpoint().every_iters();
  const double clip = spec_.solver().clip_grad_norm();
  Smoother smoothed;
  int64_t images = 0;
  TrainResult result;
  if (iteration_ >= max_iter_) {
    display_->message(fmt::format("nothing to do: the run finished its {} iterations", max_iter_));
    result.iteration = iteration_;
    result.finished = true;
    result.last_checkpoint = last_checkpoint_;
    return result;
  }
  model_->train();
  while (iteration_ < max_iter_) {
    std::optional<data::Batch> batch = train_loader_->next();
    if (!batch) continue;  // the epoch ended; next() begins the next one
    double lr = optim::lr_at(schedule_, iteration_);
    optimizer_->set_lr(lr);
    Tensor logits = (*model_)(batch->images.to(device_).contiguous(input_format_));
    Tensor loss = ops::cross_entropy(logits, batch->labels.to(device_));
    double value = loss.to(DType::f64).item<double>();
    optimizer_->zero_grad();
    loss.backward();
    if (!std::isfinite(value) || optim::first_nonfinite_grad(trainable_)) stop_diverged(value);
    if (clip > 0) optim::clip_grad_norm(trainable_, clip);
    optimizer_->step();
    ++iteration_;
    images += batch->labels.size(0);
    result.last_loss = value;
    if (options_.on_iteration) options_.on_iteration(iteration_, value);

    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    double per_iteration = elapsed / static_cast<double>(iteration_ - first_iteration);
    data::LoaderPosition position = train_loader_->position();
    ProgressUpdate update;
    update.iteration = iteration_;
    update.max_iter = max_iter_;
    update.epoch = position.epoch + static_cast<double>(position.batch) /
                                        std::max<int64_t>(1, train_loader_->batches_per_epoch());
    update.loss = smoothed.add(value);
    update.lr = lr;
    update.images_per_second = elapsed > 0 ? images / elapsed : 0;
    update.eta_seconds = per_iteration * static_cast<double>(max_iter_ - iteration_);
    display_->update(update);
    last_metrics_["loss"] = value;
    last_metrics_["lr"] = lr;
    if (iteration_ % log_every == 0 || iteration_ == max_iter_) {
      metrics_->write({iteration_,
                       {{"epoch", update.epoch},
                        {"loss", value},
                        {"smoothed_loss", update.loss},
                        {"lr", lr},
                        {"images_per_second", update.images_per_second}}});
    }
    bool last = iteration_ == max_iter_;
    if (!last && test_loader_ && eval_every > 0 && iteration_ % eval_every == 0) {
      evaluate_and_record();
    }
    if (!last && checkpoint_every > 0 && iteration_ % checkpoint_every == 0) save_checkpoint();
    if (!last && iteration_ == options_.stop_after) break;
  }
  result.iteration = iteration_;
  result.finished = iteration_ == max_iter_;
  if (result.finished) {
    if (test_loader_) result.eval = evaluate_and_record();
    std::string path = save_checkpoint();
    display_->message(fmt::format("finished {} iterations; checkpoint {}", iteration_, path));
  }
  display_->finish();
  result.last_checkpoint = last_checkpoint_;
  return result;
}

}  // namespace osprey::experiments
