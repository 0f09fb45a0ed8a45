#include "models/classification/classifier.h"

#include "framework/nn/layers/stateless.h"
#include "ops/pool/pool.h"

namespace osprey::models {

ClassificationHead::ClassificationHead(const ClassificationHeadOptions& options,
                                       random::Generator& generator)
    : options_(options) {
  OSPREY_CHECK_KIND(value, options.in_channels > 0 && options.num_classes > 0,
                    "ClassificationHead: in_channels {} and num_classes {} must be positive",
                    options.in_channels, options.num_classes);
  OSPREY_CHECK_KIND(value, options.dropout >= 0.0 && options.dropout < 1.0,
                    "ClassificationHead: dropout must be in [0, 1), got {}", options.dropout);
  if (options.dropout > 0.0)
    dropout_ =
        register_module("dropout", std::make_shared<nn::Dropout>(options.dropout, generator));
  fc = register_module("fc", std::make_shared<nn::Linear>(options.in_channels, options.num_classes,
                                                          true, generator));
}

Tensor ClassificationHead::forward(const Tensor& features) {
  OSPREY_CHECK_KIND(shape, features.dim() == 4 && features.shape()[1] == options_.in_channels,
                    "ClassificationHead: expects N x {} x H x W features, got {}",
                    options_.in_channels, shape_str(features.shape()));
  Tensor pooled = ops::adaptive_avg_pool2d(features, {1, 1}).flatten(1, -1);
  if (dropout_) pooled = (*dropout_)(pooled);
  return (*fc)(pooled);
}

std::string ClassificationHead::describe() const {
  return fmt::format("ClassificationHead({} → {}, dropout={})", options_.in_channels,
                     options_.num_classes, options_.dropout);
}

Classifier::Classifier(std::shared_ptr<nn::Module> backbone_module,
                       const ClassificationHeadOptions& head_options,
                       random::Generator& generator) {
  OSPREY_CHECK_KIND(value, backbone_module != nullptr, "Classifier: no backbone given");
  backbone = register_module("backbone", std::move(backbone_module));
  head = register_module("head", std::make_shared<ClassificationHead>(head_options, generator));
}

Tensor Classifier::forward(const Tensor& images) {
  return (*head)((*backbone)(images));
}

std::string Classifier::describe() const {
  return fmt::format("Classifier({}, {})", backbone->describe(), head->describe());
}

}  // namespace osprey::models
