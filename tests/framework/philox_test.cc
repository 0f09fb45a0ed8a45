// Philox 4x32-10 against the known-answer vectors published with Random123 (kat_vectors), and the
// Generator's bookkeeping.
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/random/generator.h"
#include "framework/random/philox.h"

namespace osprey {
namespace {

using random::PhiloxBlock;

void expect_block(PhiloxBlock counter, uint32_t k0, uint32_t k1, PhiloxBlock expected) {
  PhiloxBlock got = random::philox4x32_10(counter, k0, k1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got.v[i], expected.v[i])
        << "word " << i << std::hex << ": got 0x" << got.v[i] << ", expected 0x" << expected.v[i];
  }
}

TEST(Philox, KnownAnswerZero) {
  expect_block({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}});
}

TEST(Philox, KnownAnswerAllOnes) {
  expect_block({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
               {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}});
}

TEST(Philox, KnownAnswerPi) {
  expect_block({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
               {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}});
}

TEST(Philox, StreamConvention) {
  // Element i is lane i % 4 of block offset + i / 4; the seed is the key (low, high word).
  uint64_t seed = 0x299f31d0a4093822ull;
  PhiloxBlock block = random::philox4x32_10({{7, 0, 0, 0}}, 0xa4093822, 0x299f31d0);
  for (int lane = 0; lane < 4; ++lane) {
    EXPECT_EQ(random::philox_uint32(seed, 5, 8 + lane), block.v[lane]);
  }
  PhiloxBlock high = random::philox_block(1, uint64_t{1} << 32);
  PhiloxBlock manual = random::philox4x32_10({{0, 1, 0, 0}}, 1, 0);
  EXPECT_EQ(high.v[0], manual.v[0]);
}

TEST(Philox, UnitIntervals) {
  EXPECT_EQ(random::uint32_to_unit_float(0), 0.0f);
  EXPECT_LT(random::uint32_to_unit_float(0xffffffffu), 1.0f);
  EXPECT_LT(random::uint32_to_unit_double(0xffffffffu), 1.0);
  EXPECT_GT(random::uint32_to_open_unit<float>(0xffffffffu), 0.0f);
  EXPECT_EQ(random::uint32_to_open_unit<double>(0), 1.0);
  EXPECT_LT(random::unit_to_range(0.99999999f, 0.0f, 1.0f), 1.0f);
}

TEST(Generator, ReserveAdvancesByBlocks) {
  random::Generator g(42);
  EXPECT_EQ(g.seed(), 42u);
  auto first = g.reserve(10);  // three blocks
  EXPECT_EQ(first.offset, 0u);
  EXPECT_EQ(g.offset(), 3u);
  g.reserve(0);  // even an empty draw moves on
  EXPECT_EQ(g.offset(), 4u);
  g.reserve(4);
  EXPECT_EQ(g.offset(), 5u);
  g.manual_seed(7);
  EXPECT_EQ(g.state(), (random::GeneratorState{7, 0}));
}

TEST(Generator, StateSaveRestore) {
  random::Generator g(3);
  g.reserve(100);
  random::GeneratorState saved = g.state();
  auto a = g.reserve(8);
  g.set_state(saved);
  auto b = g.reserve(8);
  EXPECT_EQ(a, b);
  EXPECT_EQ(random::GeneratorState::parse(saved.str()), saved);
  EXPECT_EQ(saved.str(), "3:25");
  EXPECT_THROW(random::GeneratorState::parse("3-25"), Error);
  EXPECT_THROW(random::GeneratorState::parse("x:1"), Error);
}

TEST(Generator, DefaultGeneratorManualSeed) {
  random::manual_seed(11);
  EXPECT_EQ(random::default_generator().state(), (random::GeneratorState{11, 0}));
  random::default_generator().reserve(1);
  random::manual_seed(11);
  EXPECT_EQ(random::default_generator().offset(), 0u);
}

}  // namespace
}  // namespace osprey
