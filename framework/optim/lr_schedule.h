// Learning-rate schedules: the rate as a pure function of the iteration (0-based), so a resumed
// run only needs its iteration number to continue exactly.
//
//   lr(it) = warmup(it) * main(it)
//
// warmup(it) = start_factor + (1 - start_factor) * it / warmup_iters   for it < warmup_iters
//            = 1                                                          otherwise
// (linear from start_factor at iteration 0 to 1 at warmup_iters; warm-up runs over the first
// iterations of the main schedule rather than delaying it, as in Detectron's warm-up.)
//
// main(it), with T = max_iters and r = min(it, T) / T:
//   constant:  base_lr
//   step:      base_lr * gamma^floor(it / step_size)
//   multistep: base_lr * gamma^(number of milestones m with m <= it)
//   cosine:    final_lr + (base_lr - final_lr) * (1 + cos(pi * r)) / 2
//   poly:      final_lr + (base_lr - final_lr) * (1 - r)^power
// cosine and poly hold final_lr from iteration T on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::optim {

enum class LrPolicy { constant, step, multistep, cosine, poly };
const char* lr_policy_name(LrPolicy policy);
LrPolicy lr_policy_from_name(std::string_view name);  // errors list the known names

struct LrSchedule {
  LrPolicy policy = LrPolicy::constant;
  double base_lr = 0.01;
  double gamma = 0.1;                 // step, multistep
  int64_t step_size = 0;              // step: > 0
  std::vector<int64_t> milestones{};  // multistep: increasing, >= 0
  int64_t max_iters = 0;              // cosine, poly: > 0
  double final_lr = 0.0;              // cosine, poly
  double power = 1.0;                 // poly
  int64_t warmup_iters = 0;           // 0: no warm-up
  double warmup_start_factor = 1.0;   // in [0, 1]
};

// Throws naming the field when the schedule is inconsistent (see the field comments).
void validate(const LrSchedule& schedule);
// The learning rate at iteration `iteration` (>= 0). Validates the schedule first.
double lr_at(const LrSchedule& schedule, int64_t iteration);

}  // namespace osprey::optim
