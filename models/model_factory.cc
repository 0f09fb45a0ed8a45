#include "models/model_factory.h"

#include <fmt/ranges.h>

#include <algorithm>

#include "models/backbones/resnet.h"
#include "models/backbones/resnet_presets.h"

namespace osprey::models {

// A value error whose message starts with the spec's field path.
#define SPEC_CHECK(COND, PATH, ...) \
  OSPREY_CHECK_KIND(value, COND, "{}: {}", PATH, ::fmt::format(__VA_ARGS__))

namespace {

template <typename Repeated>
std::vector<int64_t> to_list(const Repeated& values) {
  return std::vector<int64_t>(values.begin(), values.end());
}

ResNetOptions base_options(const proto::BackboneSpec& spec, const std::string& path) {
  if (spec.has_preset()) {
    const auto names = resnet_preset_names();
    SPEC_CHECK(std::find(names.begin(), names.end(), spec.preset()) != names.end(),
               path + ".preset", "unknown preset '{}' (presets: {})", spec.preset(),
               fmt::join(names, ", "));
    return resnet_preset(spec.preset());
  }
  SPEC_CHECK(spec.depths_size() > 0 && spec.widths_size() > 0, path + ".preset",
             "not set, and depths and widths not given either (presets: {})",
             fmt::join(resnet_preset_names(), ", "));
  return ResNetOptions{};
}

void apply_overrides(const proto::BackboneSpec& spec, ResNetOptions& options) {
  if (spec.has_block())
    options.block = spec.block() == proto::BOTTLENECK ? BlockType::bottleneck : BlockType::basic;
  if (spec.depths_size() > 0) options.depths = to_list(spec.depths());
  if (spec.widths_size() > 0) options.widths = to_list(spec.widths());
  if (spec.has_stem()) {
    options.stem = spec.stem() == proto::CIFAR         ? StemType::cifar
                   : spec.stem() == proto::SMALL_IMAGE ? StemType::small_image
                                                       : StemType::imagenet;
  }
  if (spec.has_stem_width()) options.stem_width = spec.stem_width();
  if (spec.has_in_channels()) options.in_channels = spec.in_channels();
  if (spec.has_pre_activation()) options.pre_activation = spec.pre_activation();
  if (spec.has_last_stage_dilation()) options.last_stage_dilation = spec.last_stage_dilation();
  if (spec.has_norm())
    options.norm.type = spec.norm() == proto::FROZEN_BATCH_NORM ? NormType::frozen_batch_norm
                                                                : NormType::batch_norm;
  if (spec.has_bn_momentum()) options.norm.momentum = spec.bn_momentum();
  if (spec.has_bn_eps()) options.norm.eps = spec.bn_eps();
  if (spec.has_frozen_stages()) options.frozen_stages = spec.frozen_stages();
  if (spec.has_zero_init_residual()) options.zero_init_residual = spec.zero_init_residual();
}

void check_stages(const ResNetOptions& options, const std::string& path) {
  SPEC_CHECK(options.depths.size() == options.widths.size(), path + ".widths",
             "{} values but depths has {} (one of each per stage)", options.widths.size(),
             options.depths.size());
  for (size_t i = 0; i < options.depths.size(); ++i) {
    SPEC_CHECK(options.depths[i] >= 1, fmt::format("{}.depths[{}]", path, i),
               "must be at least 1, got {}", options.depths[i]);
    SPEC_CHECK(options.widths[i] >= 1, fmt::format("{}.widths[{}]", path, i),
               "must be at least 1, got {}", options.widths[i]);
  }
  SPEC_CHECK(options.stem_width >= 1, path + ".stem_width", "must be at least 1, got {}",
             options.stem_width);
  SPEC_CHECK(options.in_channels >= 1, path + ".in_channels", "must be at least 1, got {}",
             options.in_channels);
  SPEC_CHECK(options.last_stage_dilation >= 1, path + ".last_stage_dilation",
             "must be at least 1, got {}", options.last_stage_dilation);
  SPEC_CHECK(options.norm.momentum >= 0.0 && options.norm.momentum <= 1.0, path + ".bn_momentum",
             "must be in [0, 1] (PyTorch convention), got {}", options.norm.momentum);
  SPEC_CHECK(options.norm.eps > 0.0, path + ".bn_eps", "must be positive, got {}",
             options.norm.eps);
  const int stages = static_cast<int>(options.depths.size());
  SPEC_CHECK(options.frozen_stages >= 0 && options.frozen_stages <= stages + 1,
             path + ".frozen_stages",
             "must be in [0, {}] (0: none, 1: the stem, k: the stem and k-1 stages), got {}",
             stages + 1, options.frozen_stages);
}

DeformableStageOptions deformable_from_spec(const proto::DeformableStage& spec,
                                            const std::string& path, const std::string& net,
                                            const ResNetOptions& options) {
  const auto stages = resnet_stage_names(options);
  const auto it = std::find(stages.begin(), stages.end(), spec.stage());
  SPEC_CHECK(it != stages.end(), path + ".stage", "no stage '{}' in {} (stages: {})", spec.stage(),
             net, fmt::join(stages, ", "));
  const size_t s = static_cast<size_t>(it - stages.begin());
  DeformableStageOptions deformable;
  deformable.stage = spec.stage();
  deformable.version = spec.version() == proto::DCN_V1 ? 1 : 2;
  deformable.offset_groups = spec.offset_groups();
  deformable.first_block = spec.first_block();
  deformable.boundary = spec.boundary();
  SPEC_CHECK(deformable.first_block >= 0 && deformable.first_block < options.depths[s],
             path + ".first_block", "must be in [0, {}) ({} has {} blocks), got {}",
             options.depths[s], spec.stage(), options.depths[s], deformable.first_block);
  SPEC_CHECK(deformable.offset_groups >= 1 && options.widths[s] % deformable.offset_groups == 0,
             path + ".offset_groups",
             "must be positive and divide the {} input channels of {}'s 3x3 convs, got {}",
             options.widths[s], spec.stage(), deformable.offset_groups);
  SPEC_CHECK(deformable.boundary == "torchvision" || deformable.boundary == "mxnet_v1",
             path + ".boundary", "must be \"torchvision\" or \"mxnet_v1\", got \"{}\"",
             deformable.boundary);
  return deformable;
}

}  // namespace

ResNetOptions resnet_options_from_spec(const proto::BackboneSpec& spec, const std::string& path) {
  ResNetOptions options = base_options(spec, path);
  apply_overrides(spec, options);
  check_stages(options, path);
  const std::string net = spec.has_preset() ? spec.preset() : "this backbone";
  for (int i = 0; i < spec.deformable_size(); ++i) {
    const std::string item = fmt::format("{}.deformable[{}]", path, i);
    DeformableStageOptions deformable =
        deformable_from_spec(spec.deformable(i), item, net, options);
    for (const auto& earlier : options.deformable)
      SPEC_CHECK(earlier.stage != deformable.stage, item + ".stage", "stage '{}' is already listed",
                 deformable.stage);
    options.deformable.push_back(std::move(deformable));
  }
  return options;
}

ClassificationHeadOptions head_options_from_spec(const proto::ClassificationHeadSpec& spec,
                                                 int64_t in_channels, const std::string& path) {
  SPEC_CHECK(spec.num_classes() >= 1, path + ".num_classes", "must be at least 1, got {}",
             spec.num_classes());
  SPEC_CHECK(spec.dropout() >= 0.0 && spec.dropout() < 1.0, path + ".dropout",
             "must be in [0, 1), got {}", spec.dropout());
  ClassificationHeadOptions options;
  options.in_channels = in_channels;
  options.num_classes = spec.num_classes();
  options.dropout = spec.dropout();
  return options;
}

std::shared_ptr<nn::Module> build_model(const proto::ModelSpec& spec,
                                        random::Generator& generator) {
  SPEC_CHECK(spec.has_backbone(), "model.backbone", "not set");
  auto backbone = std::make_shared<ResNet>(resnet_options_from_spec(spec.backbone()), generator);
  if (!spec.has_classification_head()) return backbone;
  const int64_t channels = backbone->out_channels();
  return std::make_shared<Classifier>(
      backbone, head_options_from_spec(spec.classification_head(), channels), generator);
}

}  // namespace osprey::models
