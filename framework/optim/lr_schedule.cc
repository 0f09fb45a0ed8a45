// The schedule formulas of lr_schedule.h.
#include "framework/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "framework/core/error.h"

namespace osprey::optim {
namespace {

constexpr std::pair<LrPolicy, const char*> kNames[] = {{LrPolicy::constant, "constant"},
                                                       {LrPolicy::step, "step"},
                                                       {LrPolicy::multistep, "multistep"},
                                                       {LrPolicy::cosine, "cosine"},
                                                       {LrPolicy::poly, "poly"}};

double main_lr(const LrSchedule& s, int64_t it) {
  switch (s.policy) {
    case LrPolicy::constant:
      return s.base_lr;
    case LrPolicy::step:
      return s.base_lr * std::pow(s.gamma, static_cast<double>(it / s.step_size));
    case LrPolicy::multistep: {
      const auto passed =
          std::upper_bound(s.milestones.begin(), s.milestones.end(), it) - s.milestones.begin();
      return s.base_lr * std::pow(s.gamma, static_cast<double>(passed));
    }
    case LrPolicy::cosine:
    case LrPolicy::poly: {
      const double r =
          static_cast<double>(std::min(it, s.max_iters)) / static_cast<double>(s.max_iters);
      const double shape = s.policy == LrPolicy::cosine
                               ? 0.5 * (1.0 + std::cos(std::numbers::pi * r))
                               : std::pow(1.0 - r, s.power);
      return s.final_lr + (s.base_lr - s.final_lr) * shape;
    }
  }
  OSPREY_THROW(internal, "lr schedule: unknown policy");
}

}  // namespace

const char* lr_policy_name(LrPolicy policy) {
  for (const auto& [p, name] : kNames) {
    if (p == policy) return name;
  }
  return "unknown";
}

LrPolicy lr_policy_from_name(std::string_view name) {
  for (const auto& [p, n] : kNames) {
    if (name == n) return p;
  }
  OSPREY_THROW(value,
               "lr schedule: unknown policy '{}' (known: constant, step, multistep, "
               "cosine, poly)",
               name);
}

void validate(const LrSchedule& s) {
  OSPREY_CHECK(std::isfinite(s.base_lr) && s.base_lr >= 0.0,
               "lr schedule: base_lr {} must be finite and >= 0", s.base_lr);
  OSPREY_CHECK(s.warmup_iters >= 0, "lr schedule: warmup_iters {} must be >= 0", s.warmup_iters);
  OSPREY_CHECK(s.warmup_start_factor >= 0.0 && s.warmup_start_factor <= 1.0,
               "lr schedule: warmup_start_factor {} must lie in [0, 1]", s.warmup_start_factor);
  switch (s.policy) {
    case LrPolicy::constant:
      break;
    case LrPolicy::step:
      OSPREY_CHECK(s.step_size > 0, "lr schedule (step): step_size {} must be > 0", s.step_size);
      OSPREY_CHECK(s.gamma >= 0.0, "lr schedule (step): gamma {} must be >= 0", s.gamma);
      break;
    case LrPolicy::multistep:
      OSPREY_CHECK(s.gamma >= 0.0, "lr schedule (multistep): gamma {} must be >= 0", s.gamma);
      for (size_t i = 0; i < s.milestones.size(); ++i) {
        OSPREY_CHECK(s.milestones[i] >= 0 && (i == 0 || s.milestones[i] > s.milestones[i - 1]),
                     "lr schedule (multistep): milestones must be >= 0 and strictly increasing; "
                     "milestone #{} is {}",
                     i, s.milestones[i]);
      }
      break;
    case LrPolicy::cosine:
    case LrPolicy::poly:
      OSPREY_CHECK(s.max_iters > 0, "lr schedule ({}): max_iters {} must be > 0",
                   lr_policy_name(s.policy), s.max_iters);
      OSPREY_CHECK(std::isfinite(s.final_lr) && s.final_lr >= 0.0,
                   "lr schedule ({}): final_lr {} must be finite and >= 0",
                   lr_policy_name(s.policy), s.final_lr);
      OSPREY_CHECK(s.policy != LrPolicy::poly || s.power > 0.0,
                   "lr schedule (poly): power {} must be > 0", s.power);
      break;
  }
}

double lr_at(const LrSchedule& s, int64_t iteration) {
  validate(s);
  OSPREY_CHECK(iteration >= 0, "lr schedule: iteration {} must be >= 0", iteration);
  double factor = 1.0;
  if (iteration < s.warmup_iters) {
    const double alpha = static_cast<double>(iteration) / static_cast<double>(s.warmup_iters);
    factor = s.warmup_start_factor + (1.0 - s.warmup_start_factor) * alpha;
  }
  return factor * main_lr(s, iteration);
}

}  // namespace osprey::optim
