#include "framework/random/generator.h"

#include <charconv>

#include "framework/core/error.h"

namespace osprey::random {

std::string GeneratorState::str() const {
  return fmt::format("{}:{}", seed, offset);
}

GeneratorState GeneratorState::parse(std::string_view text) {
  auto number = [&](std::string_view part) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    OSPREY_CHECK(ec == std::errc() && end == part.data() + part.size() && !part.empty(),
                 "generator state '{}' is not of the form seed:offset (decimal numbers)", text);
    return value;
  };
  size_t colon = text.find(':');
  OSPREY_CHECK(colon != std::string_view::npos,
               "generator state '{}' is not of the form seed:offset (decimal numbers)", text);
  return {number(text.substr(0, colon)), number(text.substr(colon + 1))};
}

Generator& Generator::operator=(const Generator& other) {
  if (this != &other) set_state(other.state());
  return *this;
}

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = {seed, 0};
}

uint64_t Generator::seed() const {
  return state().seed;
}
uint64_t Generator::offset() const {
  return state().offset;
}

void Generator::set_offset(uint64_t offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.offset = offset;
}

GeneratorState Generator::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

void Generator::set_state(const GeneratorState& state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = state;
}

GeneratorState Generator::reserve(uint64_t values) {
  std::lock_guard<std::mutex> lock(mutex_);
  GeneratorState start = state_;
  uint64_t blocks = values == 0 ? 1 : (values - 1) / 4 + 1;
  state_.offset += blocks;
  return start;
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace osprey::random
