#include "data/sampler.h"

#include <numeric>
#include <utility>

#include "data/sample_random.h"
#include "framework/core/error.h"

namespace osprey::data {

std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch) {
  OSPREY_CHECK(n >= 0 && epoch >= 0, "sampler: negative dataset size ({}) or epoch ({})", n, epoch);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  // Step i swaps position i with a position j uniform in [0, i]; the draw of step i is the first
  // lane of the Philox block at counter (i, epoch), so no step depends on another's random numbers.
  for (int64_t i = n - 1; i > 0; --i) {
    uint32_t bits = sample_random_block(seed, RandomStream::sampler, epoch, i).v[0];
    auto j = static_cast<int64_t>(uniform_below(bits, static_cast<uint64_t>(i + 1)));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

}  // namespace osprey::data
