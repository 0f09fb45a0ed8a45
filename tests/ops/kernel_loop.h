// Test helpers for op value tests: run a body once per CPU kernel of an op (each forced by an
// override, cleared even when the body throws), and catch an error's message.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "framework/dispatch/registry.h"

namespace osprey::testing {

inline void for_each_cpu_kernel(const char* op, const std::function<void()>& body) {
  struct Override {
    const char* op;
    Override(const char* op, const std::string& impl) : op(op) {
      dispatch::Registry::instance().set_override(op, DeviceType::cpu, impl);
    }
    ~Override() { dispatch::Registry::instance().clear_override(op, DeviceType::cpu); }
  };
  for (const auto* k : dispatch::Registry::instance().kernels(op, DeviceType::cpu)) {
    Override forced(op, k->impl);
    SCOPED_TRACE(k->key());
    body();
  }
}

inline std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace osprey::testing
