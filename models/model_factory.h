// Builds a model from the experiment spec's ModelSpec (experiments/proto/osprey.proto).
//
// The backbone starts from its preset's ResNetOptions (resnet_presets.h) and every field set in
// the BackboneSpec overrides it (a repeated field replaces the preset's list when it has any
// value). The result is checked once, here, and errors name the spec's field path:
//   model.backbone.deformable[0].stage: no stage 'res6' in resnet20 (stages: stage1, stage2,
//   stage3)
// With a classification_head the model is a Classifier (parameter names backbone.…, head.fc.…);
// without one it is the ResNet itself. model.memory_format is not read here (the training loop
// places inputs and weights).
#pragma once

#include <memory>

#include "experiments/proto/osprey.pb.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"
#include "models/backbones/resnet_options.h"
#include "models/classification/classifier.h"

namespace osprey::models {

std::shared_ptr<nn::Module> build_model(const proto::ModelSpec& spec, random::Generator& generator);

// The mappings build_model uses, for callers that build parts themselves. `path` prefixes the
// field names in errors.
ResNetOptions resnet_options_from_spec(const proto::BackboneSpec& spec,
                                       const std::string& path = "model.backbone");
ClassificationHeadOptions head_options_from_spec(
    const proto::ClassificationHeadSpec& spec, int64_t in_channels,
    const std::string& path = "model.classification_head");

}  // namespace osprey::models
