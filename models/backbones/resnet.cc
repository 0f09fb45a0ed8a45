#include "models/backbones/resnet.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "framework/autograd/grad_mode.h"
#include "framework/nn/init.h"
#include "models/backbones/norm_layer.h"
#include "models/backbones/residual_block.h"
#include "ops/activation/activation.h"

namespace osprey::models {

std::vector<std::string> resnet_stage_names(const ResNetOptions& options) {
  std::vector<std::string> names;
  for (size_t i = 0; i < options.depths.size(); ++i)
    names.push_back(options.stem == StemType::cifar ? fmt::format("stage{}", i + 1)
                                                    : fmt::format("res{}", i + 2));
  return names;
}

int64_t block_out_channels(BlockType block, int64_t width) {
  return block == BlockType::bottleneck ? BottleneckBlock::kExpansion * width : width;
}

namespace {

void validate(const ResNetOptions& options, const std::vector<std::string>& stages) {
  OSPREY_CHECK_KIND(value,
                    !options.depths.empty() && options.depths.size() == options.widths.size(),
                    "ResNet: depths ({} values) and widths ({} values) need one value per stage",
                    options.depths.size(), options.widths.size());
  for (size_t i = 0; i < options.depths.size(); ++i)
    OSPREY_CHECK_KIND(value, options.depths[i] > 0 && options.widths[i] > 0,
                      "ResNet: stage {} needs a positive depth and width, got {} and {}", stages[i],
                      options.depths[i], options.widths[i]);
  OSPREY_CHECK_KIND(value, options.stem_width > 0 && options.in_channels > 0,
                    "ResNet: stem_width {} and in_channels {} must be positive", options.stem_width,
                    options.in_channels);
  OSPREY_CHECK_KIND(value, options.last_stage_dilation > 0,
                    "ResNet: last_stage_dilation must be positive, got {}",
                    options.last_stage_dilation);
  OSPREY_CHECK_KIND(
      value,
      options.frozen_stages >= 0 && options.frozen_stages <= static_cast<int>(stages.size()) + 1,
      "ResNet: frozen_stages must be in [0, {}] (the stem and {} stages), got {}",
      stages.size() + 1, stages.size(), options.frozen_stages);
  for (const auto& deformable : options.deformable) {
    const auto it = std::find(stages.begin(), stages.end(), deformable.stage);
    OSPREY_CHECK_KIND(value, it != stages.end(),
                      "ResNet: no stage '{}' to make deformable (stages: {})", deformable.stage,
                      fmt::join(stages, ", "));
    const int64_t depth = options.depths[it - stages.begin()];
    OSPREY_CHECK_KIND(value, deformable.first_block >= 0 && deformable.first_block < depth,
                      "ResNet: deformable first_block {} of stage {} must be in [0, {})",
                      deformable.first_block, deformable.stage, depth);
    OSPREY_CHECK_KIND(value, deformable.version == 1 || deformable.version == 2,
                      "ResNet: deformable version of stage {} must be 1 or 2, got {}",
                      deformable.stage, deformable.version);
    OSPREY_CHECK_KIND(
        value,
        std::count_if(options.deformable.begin(), options.deformable.end(),
                      [&](const auto& d) { return d.stage == deformable.stage; }) == 1,
        "ResNet: stage {} is listed twice in deformable", deformable.stage);
  }
}

}  // namespace

ResNet::ResNet(const ResNetOptions& options, random::Generator& generator)
    : options_(options), stage_names_(resnet_stage_names(options)) {
  validate(options, stage_names_);
  stem_ = register_module("stem", std::make_shared<ResNetStem>(options));
  int64_t channels = stem_->out_channels();
  int64_t stride = stem_->stride();
  for (size_t s = 0; s < options.depths.size(); ++s) {
    const bool last = s + 1 == options.depths.size();
    const int64_t dilation = last ? options.last_stage_dilation : 1;
    const int64_t stage_stride = (s == 0 || dilation > 1) ? 1 : 2;
    const auto deformable = std::find_if(options.deformable.begin(), options.deformable.end(),
                                         [&](const auto& d) { return d.stage == stage_names_[s]; });
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t b = 0; b < options.depths[s]; ++b) {
      BlockOptions block;
      block.in_channels = channels;
      block.width = options.widths[s];
      block.out_channels = block_out_channels(options.block, options.widths[s]);
      block.stride = b == 0 ? stage_stride : 1;
      block.dilation = dilation;
      block.pre_activation = options.pre_activation;
      block.norm = options.norm;
      if (deformable != options.deformable.end() && b >= deformable->first_block)
        block.deformable = *deformable;
      std::shared_ptr<nn::Module> module;
      if (options.block == BlockType::bottleneck)
        module = std::make_shared<BottleneckBlock>(block);
      else
        module = std::make_shared<BasicBlock>(block);
      stage->add(fmt::format("b{}", b), module);
      channels = block.out_channels;
    }
    stride *= stage_stride;
    stages_.push_back(register_module(stage_names_[s], stage));
    stage_channels_.push_back(channels);
    stage_strides_.push_back(stride);
  }
  if (options.pre_activation)
    final_bn_ = register_module("final_bn", make_norm(options.norm, channels));
  initialise(generator);
  freeze();
}

void ResNet::initialise(random::Generator& generator) {
  // Every 4-d parameter is a conv weight; the offset convs keep their zeros so that deformable
  // blocks start as plain ones.
  for (auto [name, tensor] : named_parameters()) {
    if (tensor.dim() != 4 || name.find("conv_offset.") != std::string::npos) continue;
    nn::init::kaiming_normal_(tensor, nn::init::FanMode::fan_out, "relu", 0.0, generator);
  }
  if (!options_.zero_init_residual) return;
  for (auto& stage : stages_)
    for (size_t b = 0; b < stage->size(); ++b)
      dynamic_cast<ResidualBlock&>((*stage)[b]).zero_init_residual();
}

void ResNet::freeze() {
  if (options_.frozen_stages >= 1) frozen_.push_back(stem_.get());
  for (int s = 0; s + 1 < options_.frozen_stages; ++s) frozen_.push_back(stages_[s].get());
  for (nn::Module* module : frozen_) {
    module->set_requires_grad(false);
    module->eval();
  }
}

void ResNet::train(bool on) {
  nn::Module::train(on);
  for (nn::Module* module : frozen_) module->eval();
}

Tensor ResNet::forward(const Tensor& input) {
  Tensor out = (*stem_)(input);
  for (auto& stage : stages_) out = (*stage)(out);
  return final_bn_ ? norm_relu(*final_bn_, out) : out;
}

nn::NamedTensors ResNet::forward_features(const Tensor& input) {
  nn::NamedTensors features;
  Tensor out = (*stem_)(input);
  features.emplace_back("stem", out);
  for (size_t s = 0; s < stages_.size(); ++s) {
    out = (*stages_[s])(out);
    features.emplace_back(stage_names_[s], out);
  }
  return features;
}

size_t ResNet::stage_index(const std::string& name) const {
  if (name == "stem") return 0;
  const auto it = std::find(stage_names_.begin(), stage_names_.end(), name);
  OSPREY_CHECK_KIND(not_found, it != stage_names_.end(), "ResNet: no stage '{}' (stem, {})", name,
                    fmt::join(stage_names_, ", "));
  return static_cast<size_t>(it - stage_names_.begin()) + 1;
}

int64_t ResNet::out_channels(const std::string& name) const {
  const size_t index = stage_index(name);
  return index == 0 ? stem_->out_channels() : stage_channels_[index - 1];
}

int64_t ResNet::feature_stride(const std::string& name) const {
  const size_t index = stage_index(name);
  return index == 0 ? stem_->stride() : stage_strides_[index - 1];
}

std::string ResNet::describe() const {
  return fmt::format("ResNet({} stem, {} blocks, depths [{}], widths [{}]{}{})", stem_->describe(),
                     options_.block == BlockType::bottleneck ? "bottleneck" : "basic",
                     fmt::join(options_.depths, ", "), fmt::join(options_.widths, ", "),
                     options_.pre_activation ? ", pre-activation" : "",
                     options_.last_stage_dilation > 1
                         ? fmt::format(", last stage dilation {}", options_.last_stage_dilation)
                         : "");
}

}  // namespace osprey::models
