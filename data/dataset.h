// The interface every classification dataset implements: a fixed number of examples, each an image
// tensor (C×H×W, contiguous or not, u8 or f32, on the CPU) and an integer class label. The loader
// (loader.h) reads examples through it from several threads at once, so `example()` must be safe to
// call concurrently; implementations keep their data immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace osprey::data {

struct Example {
  Tensor image;       // C×H×W, u8 (pixel values 0…255) or f32, CPU
  int64_t label = 0;  // class index in [0, class_names().size())
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Example `index` in [0, size()); an index outside that range is a value error. Thread-safe.
  virtual Example example(int64_t index) const = 0;
  // The name of each class, indexed by label.
  virtual const std::vector<std::string>& class_names() const = 0;
};

}  // namespace osprey::data
