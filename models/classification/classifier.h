// Image classifier: a backbone, then the head global average pool → [dropout →] fc.
// Parameter names: backbone.… (the backbone's own names, resnet.h) and head.fc.{weight,bias}.
// fc has PyTorch's default Linear initialisation, drawn from the generator given.
#pragma once

#include <memory>

#include "framework/nn/layers/linear.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace osprey::models {

struct ClassificationHeadOptions {
  int64_t in_channels = 0;
  int64_t num_classes = 0;
  double dropout = 0.0;  // probability; 0: no dropout layer
};

class ClassificationHead : public nn::Module {
 public:
  ClassificationHead(const ClassificationHeadOptions& options, random::Generator& generator);
  // N × C × H × W features → N × num_classes logits.
  Tensor forward(const Tensor& features) override;
  std::string describe() const override;

  std::shared_ptr<nn::Linear> fc;

 private:
  ClassificationHeadOptions options_;
  std::shared_ptr<nn::Module> dropout_;
};

class Classifier : public nn::Module {
 public:
  // `backbone` maps images to N × C × H × W features with C = head.in_channels.
  Classifier(std::shared_ptr<nn::Module> backbone, const ClassificationHeadOptions& head,
             random::Generator& generator);
  Tensor forward(const Tensor& images) override;
  std::string describe() const override;

  std::shared_ptr<nn::Module> backbone;
  std::shared_ptr<ClassificationHead> head;
};

}  // namespace osprey::models
