#include "data/sniper/chip_generator.h"

#include <algorithm>

#include "ops/common/box_geometry.h"

namespace osprey::data::sniper {

std::vector<Box> candidate_chips(int width, int height, int chip_size, int stride) {
  const double w = width, h = height, c = chip_size;
  std::vector<Box> chips;
  chips.push_back({std::max(w - c, 0.0), 0, w - 1, std::min(c, h - 1)});
  chips.push_back({0, std::max(h - c, 0.0), std::min(c, w - 1), h - 1});
  chips.push_back({std::max(w - c, 0.0), std::max(h - c, 0.0), w - 1, h - 1});
  for (int x = 0; x < width - chip_size; x += stride) {
    for (int y = 0; y < height - chip_size; y += stride) {
      chips.push_back({double(x), double(y), x + c - 1, y + c - 1});
    }
  }
  for (int y = 0; y < height - chip_size; y += stride) {
    chips.push_back({std::max(w - c - 1, 0.0), double(y), w - 1, y + c - 1});
  }
  for (int x = 0; x < width - chip_size; x += stride) {
    chips.push_back({double(x), std::max(h - c - 1, 0.0), x + c - 1, h - 1});
  }
  return chips;
}

bool contains(const Box& chip, const Box& box) {
  return ops::box::iof(box.data(), chip.data(), 1.0) == 1.0;
}

std::vector<Box> greedy_cover(const std::vector<Box>& chips, const std::vector<Box>& boxes) {
  std::vector<Box> chosen;
  if (boxes.empty()) return chosen;
  // members[i]: the boxes chip i contains; a box once covered stops counting for every chip.
  std::vector<std::vector<int>> members(chips.size());
  for (size_t i = 0; i < chips.size(); ++i) {
    for (size_t j = 0; j < boxes.size(); ++j) {
      if (contains(chips[i], boxes[j])) members[i].push_back(static_cast<int>(j));
    }
  }
  std::vector<char> covered(boxes.size(), 0);
  while (true) {
    size_t best = 0, best_count = 0;
    for (size_t i = 0; i < chips.size(); ++i) {
      size_t count = 0;
      for (int j : members[i]) count += covered[j] ? 0 : 1;
      if (count > best_count) {  // strict: the first maximum in chip order wins
        best_count = count;
        best = i;
      }
    }
    if (best_count == 0) break;
    for (int j : members[best]) covered[j] = 1;
    chosen.push_back(chips[best]);
  }
  return chosen;
}

std::vector<Box> generate_chips(const std::vector<Box>& boxes, int width, int height, int chip_size,
                                int stride, const std::function<void(std::vector<Box>&)>& shuffle) {
  if (boxes.empty()) return {};
  std::vector<Box> chips = candidate_chips(width, height, chip_size, stride);
  if (shuffle) shuffle(chips);
  return greedy_cover(chips, boxes);
}

}  // namespace osprey::data::sniper
