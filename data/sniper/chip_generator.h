// SNIPER's chip generator at one scale (lib/chips/cchips.cpp and its Python twin
// chip_generator.py): the candidate chips of a W′×H′ image, then a greedy set cover of the boxes by
// chips that contain them fully. Coordinates are inclusive integer pixels (the +1 convention of
// box_geometry.h, offset 1): a chip [x1, y1, x2, y2] of size C spans x2 = x1 + C − 1.
#pragma once

#include <array>
#include <functional>
#include <vector>

namespace osprey::data::sniper {

using Box = std::array<double, 4>;  // x1, y1, x2, y2, inclusive pixels

// The candidates, in the code's order:
//   3 corner chips: top-right [max(W′−C,0), 0, W′−1, min(C,H′−1)], bottom-left [0, max(H′−C,0),
//   min(C,W′−1), H′−1], bottom-right [max(W′−C,0), max(H′−C,0), W′−1, H′−1] (the code's extents
//   min(C, H′−1) and min(C, W′−1) make those two chips one pixel longer than C; kept as is);
//   the grid: x in [0, W′−C) step S, y in [0, H′−C) step S (x-major): [x, y, x+C−1, y+C−1];
//   the right column: [max(W′−C−1,0), y, W′−1, y+C−1] for each grid y;
//   the bottom row: [x, max(H′−C−1,0), x+C−1, H′−1] for each grid x.
// An image no larger than C gives just the 3 corner chips (each the whole image).
std::vector<Box> candidate_chips(int width, int height, int chip_size, int stride);

// True when `box` lies fully inside `chip`: intersection / area(box) == 1, +1 convention.
bool contains(const Box& chip, const Box& box);

// Greedy set cover: repeatedly takes the chip that contains the most still-uncovered boxes (the
// first such chip in `chips` order), marks its boxes covered, and stops when no chip contains an
// uncovered box. Returns the chosen chips in the order chosen; none when `boxes` is empty. Boxes
// that fit in no chip stay uncovered.
std::vector<Box> greedy_cover(const std::vector<Box>& chips, const std::vector<Box>& boxes);

// The whole generator: candidates, `shuffle` (SNIPER: a random permutation), greedy cover.
// `boxes` are at the chip scale, clipped to the scaled image.
std::vector<Box> generate_chips(const std::vector<Box>& boxes, int width, int height, int chip_size,
                                int stride, const std::function<void(std::vector<Box>&)>& shuffle);

}  // namespace osprey::data::sniper
