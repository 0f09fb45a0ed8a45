// A fresh directory per test under the system temp directory, removed afterwards.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace osprey::experiments::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("osprey_") + info->test_suite_name() + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories((dir_ / name).parent_path());
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  std::filesystem::path dir_;
};

// The message of the Error `statement` throws (fails the test when it does not throw).
#define OSPREY_ERROR_MESSAGE(statement)                        \
  [&]() -> std::string {                                       \
    try {                                                      \
      statement;                                               \
    } catch (const ::osprey::Error& error) {                   \
      return error.message();                                  \
    }                                                          \
    ADD_FAILURE() << "expected an osprey::Error: " #statement; \
    return std::string();                                      \
  }()

// Substring checks that print both strings on failure.
#define EXPECT_CONTAINS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "expected to find: " << (needle) << "\n in: " << (haystack)
#define EXPECT_NOT_CONTAINS(haystack, needle)                      \
  EXPECT_EQ(std::string(haystack).find(needle), std::string::npos) \
      << "expected not to find: " << (needle) << "\n in: " << (haystack)

}  // namespace osprey::experiments::testing
