// The order in which a loader visits a dataset in each epoch. A shuffled order is a Fisher–Yates
// permutation whose draws come from Philox at (seed, epoch, step) (sample_random.h): the same seed
// and epoch give the same order on every machine and at every thread count, a different epoch gives
// a different order, and any epoch's order can be computed directly, which is what lets a resumed
// run continue with exactly the batches it would have seen.
#pragma once

#include <cstdint>
#include <vector>

namespace osprey::data {

// The dataset indices 0 … n-1 in the order of `epoch`: a permutation when `shuffle`, else
// ascending.
std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch);

}  // namespace osprey::data
