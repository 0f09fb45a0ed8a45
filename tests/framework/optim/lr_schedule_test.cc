// Every schedule at chosen iterations (warm-up start, boundaries, end), computed by hand.
#include "framework/optim/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "framework/core/error.h"

namespace osprey::optim {
namespace {

TEST(LrSchedule, Constant) {
  LrSchedule s{.policy = LrPolicy::constant, .base_lr = 0.1};
  EXPECT_DOUBLE_EQ(lr_at(s, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(s, 123456), 0.1);
}

TEST(LrSchedule, LinearWarmup) {
  LrSchedule s{.policy = LrPolicy::constant,
               .base_lr = 0.1,
               .warmup_iters = 100,
               .warmup_start_factor = 0.001};
  EXPECT_DOUBLE_EQ(lr_at(s, 0), 0.1 * 0.001);
  EXPECT_DOUBLE_EQ(lr_at(s, 50), 0.1 * (0.001 + 0.999 * 0.5));
  EXPECT_DOUBLE_EQ(lr_at(s, 99), 0.1 * (0.001 + 0.999 * 0.99));
  EXPECT_DOUBLE_EQ(lr_at(s, 100), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(s, 101), 0.1);
}

TEST(LrSchedule, Step) {
  LrSchedule s{.policy = LrPolicy::step, .base_lr = 1.0, .gamma = 0.5, .step_size = 10};
  EXPECT_DOUBLE_EQ(lr_at(s, 0), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(s, 9), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(s, 10), 0.5);
  EXPECT_DOUBLE_EQ(lr_at(s, 29), 0.25);
  EXPECT_DOUBLE_EQ(lr_at(s, 30), 0.125);
}

TEST(LrSchedule, MultistepWithWarmup) {
  LrSchedule s{.policy = LrPolicy::multistep,
               .base_lr = 0.02,
               .gamma = 0.1,
               .milestones = {60, 80},
               .warmup_iters = 10,
               .warmup_start_factor = 1.0 / 3.0};
  EXPECT_DOUBLE_EQ(lr_at(s, 0), 0.02 / 3.0);
  EXPECT_DOUBLE_EQ(lr_at(s, 5), 0.02 * (1.0 / 3.0 + (2.0 / 3.0) * 0.5));
  EXPECT_DOUBLE_EQ(lr_at(s, 10), 0.02);
  EXPECT_DOUBLE_EQ(lr_at(s, 59), 0.02);
  EXPECT_DOUBLE_EQ(lr_at(s, 60), 0.002);
  EXPECT_DOUBLE_EQ(lr_at(s, 79), 0.002);
  EXPECT_NEAR(lr_at(s, 80), 0.0002, 1e-18);
  EXPECT_NEAR(lr_at(s, 1000), 0.0002, 1e-18);
}

TEST(LrSchedule, Cosine) {
  LrSchedule s{.policy = LrPolicy::cosine, .base_lr = 0.1, .max_iters = 100, .final_lr = 0.001};
  EXPECT_DOUBLE_EQ(lr_at(s, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(s, 50), 0.001 + 0.099 * 0.5);
  EXPECT_DOUBLE_EQ(lr_at(s, 25), 0.001 + 0.099 * 0.5 * (1.0 + std::cos(std::numbers::pi / 4)));
  EXPECT_DOUBLE_EQ(lr_at(s, 100), 0.001);
  EXPECT_DOUBLE_EQ(lr_at(s, 150), 0.001);
}

TEST(LrSchedule, Poly) {
  LrSchedule s{.policy = LrPolicy::poly, .base_lr = 0.01, .max_iters = 1000, .power = 0.9};
  EXPECT_DOUBLE_EQ(lr_at(s, 0), 0.01);
  EXPECT_DOUBLE_EQ(lr_at(s, 500), 0.01 * std::pow(0.5, 0.9));
  EXPECT_DOUBLE_EQ(lr_at(s, 1000), 0.0);
  EXPECT_DOUBLE_EQ(lr_at(s, 2000), 0.0);
  s.power = 1.0;
  s.final_lr = 0.001;
  EXPECT_DOUBLE_EQ(lr_at(s, 250), 0.001 + 0.009 * 0.75);
}

TEST(LrSchedule, PolicyNames) {
  EXPECT_EQ(lr_policy_from_name("multistep"), LrPolicy::multistep);
  EXPECT_STREQ(lr_policy_name(LrPolicy::poly), "poly");
  EXPECT_THROW(lr_policy_from_name("exp"), Error);
}

TEST(LrSchedule, Errors) {
  auto message = [](const LrSchedule& s, int64_t it = 0) -> std::string {
    try {
      lr_at(s, it);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message({.policy = LrPolicy::step}).find("step_size"), std::string::npos);
  EXPECT_NE(message({.policy = LrPolicy::cosine}).find("max_iters"), std::string::npos);
  EXPECT_NE(message({.policy = LrPolicy::multistep, .milestones = {5, 5}}).find("milestone #1"),
            std::string::npos);
  EXPECT_NE(message({.warmup_iters = 5, .warmup_start_factor = 2.0}).find("warmup_start_factor"),
            std::string::npos);
  EXPECT_NE(message({}, -1).find("iteration -1"), std::string::npos);
}

}  // namespace
}  // namespace osprey::optim
