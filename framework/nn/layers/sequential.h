// Sequential: children applied in order, named "0", "1", … unless given names.
#pragma once

#include <memory>
#include <string>

#include "framework/nn/module.h"

namespace osprey::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  // Appends under the next index as its name.
  template <typename M>
  std::shared_ptr<M> add(std::shared_ptr<M> child) {
    return add(std::to_string(layers_.size()), std::move(child));
  }
  template <typename M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> child) {
    register_module(name, child);
    layers_.push_back(child);
    return child;
  }
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t index) const { return *layers_.at(index); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace osprey::nn
