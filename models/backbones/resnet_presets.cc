#include "models/backbones/resnet_presets.h"

#include <fmt/ranges.h>

#include <utility>

#include "framework/core/error.h"

namespace osprey::models {

namespace {

ResNetOptions imagenet(BlockType block, std::vector<int64_t> depths) {
  ResNetOptions options;
  options.block = block;
  options.depths = std::move(depths);
  options.widths = {64, 128, 256, 512};
  options.stem = StemType::imagenet;
  options.stem_width = 64;
  return options;
}

ResNetOptions cifar(int64_t blocks_per_stage) {
  ResNetOptions options;
  options.block = BlockType::basic;
  options.depths = {blocks_per_stage, blocks_per_stage, blocks_per_stage};
  options.widths = {16, 32, 64};
  options.stem = StemType::cifar;
  options.stem_width = 16;
  return options;
}

const std::vector<std::pair<std::string, ResNetOptions>>& presets() {
  static const std::vector<std::pair<std::string, ResNetOptions>> table = {
      {"resnet18", imagenet(BlockType::basic, {2, 2, 2, 2})},
      {"resnet34", imagenet(BlockType::basic, {3, 4, 6, 3})},
      {"resnet50", imagenet(BlockType::bottleneck, {3, 4, 6, 3})},
      {"resnet101", imagenet(BlockType::bottleneck, {3, 4, 23, 3})},
      {"resnet152", imagenet(BlockType::bottleneck, {3, 8, 36, 3})},
      {"resnet20", cifar(3)},
      {"resnet32", cifar(5)},
      {"resnet56", cifar(9)},
  };
  return table;
}

}  // namespace

ResNetOptions resnet_preset(const std::string& name) {
  for (const auto& [preset, options] : presets())
    if (preset == name) return options;
  OSPREY_THROW(not_found, "unknown ResNet preset '{}' (presets: {})", name,
               fmt::join(resnet_preset_names(), ", "));
}

std::vector<std::string> resnet_preset_names() {
  std::vector<std::string> names;
  for (const auto& [preset, options] : presets()) names.push_back(preset);
  return names;
}

}  // namespace osprey::models
