#include "data/batch_pipeline.h"

#include <charconv>

#include "data/sampler.h"

namespace osprey::data {

std::string LoaderPosition::str() const {
  return fmt::format("{}:{}", epoch, batch);
}

LoaderPosition LoaderPosition::parse(std::string_view text) {
  auto number = [&](std::string_view part) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    OSPREY_CHECK(
        ec == std::errc() && end == part.data() + part.size() && !part.empty() && value >= 0,
        "loader position '{}' is not of the form epoch:batch (decimal numbers)", text);
    return value;
  };
  size_t colon = text.find(':');
  OSPREY_CHECK(colon != std::string_view::npos,
               "loader position '{}' is not of the form epoch:batch (decimal numbers)", text);
  return {number(text.substr(0, colon)), number(text.substr(colon + 1))};
}

std::shared_ptr<const std::vector<int64_t>> EpochOrders::get(int64_t epoch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  auto order =
      std::make_shared<const std::vector<int64_t>>(epoch_order(size_, shuffle_, seed_, epoch));
  // Workers run at most a few batches ahead, so the current and next epochs are all that is used;
  // an evicted order is simply computed again.
  if (orders_.size() >= 3) orders_.erase(orders_.begin());
  orders_.emplace(epoch, order);
  return order;
}

}  // namespace osprey::data
