#include "framework/nn/layers/sequential.h"

namespace osprey::nn {

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (auto& layer : layers_) x = (*layer)(x);
  return x;
}

std::string Sequential::describe() const {
  return fmt::format("Sequential({} layers)", layers_.size());
}

}  // namespace osprey::nn
