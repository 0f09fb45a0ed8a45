// The state random ops draw from: a 64-bit seed and a 64-bit offset into the Philox stream of that
// seed (counted in 128-bit blocks, see philox.h). Each op reserves the blocks it needs with
// `reserve(n)`, which returns the offset to start at and advances past them, so consecutive ops
// draw disjoint numbers and a (seed, offset) pair replays any op exactly on any device.
//
// Checkpoints save `state()` and restore it with `set_state()`; the state is also printable and
// parseable ("seed:offset") so it fits a text field of a checkpoint or a log line.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace osprey::random {

inline constexpr uint64_t kDefaultSeed = 0x5EEDull;

struct GeneratorState {
  uint64_t seed = kDefaultSeed;
  uint64_t offset = 0;
  bool operator==(const GeneratorState&) const = default;
  std::string str() const;                             // "seed:offset" in decimal
  static GeneratorState parse(std::string_view text);  // inverse of str(); errors name the text
};

class Generator {
 public:
  explicit Generator(uint64_t seed = kDefaultSeed) : state_{seed, 0} {}
  Generator(const Generator& other) : state_(other.state()) {}
  Generator& operator=(const Generator& other);

  // Restarts the stream of `seed` at offset 0.
  void manual_seed(uint64_t seed);
  uint64_t seed() const;
  uint64_t offset() const;
  void set_offset(uint64_t offset);

  GeneratorState state() const;
  void set_state(const GeneratorState& state);

  // Reserves the blocks for `values` random 32-bit values (ceil(values / 4) blocks, at least one
  // so that even an empty draw moves the stream) and returns the state to draw them from.
  GeneratorState reserve(uint64_t values);

 private:
  mutable std::mutex mutex_;
  GeneratorState state_;
};

// The process-wide generator the C++ random functions use when none is passed.
Generator& default_generator();
// Seeds the default generator (offset back to 0).
void manual_seed(uint64_t seed);

}  // namespace osprey::random
