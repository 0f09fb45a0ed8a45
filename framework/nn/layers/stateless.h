// Layers without parameters, wrapping one op each so they can sit in a Sequential and carry
// forward hooks: ReLU, Dropout (active in training only), MaxPool2d, AvgPool2d,
// AdaptiveAvgPool2d, Flatten, Identity.
#pragma once

#include <vector>

#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace osprey::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string describe() const override { return "ReLU"; }
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input; }
  std::string describe() const override { return "Identity"; }
};

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, random::Generator& generator = random::default_generator());
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;

 private:
  double p_;
  random::Generator* generator_;
};

struct PoolOptions {
  std::vector<int64_t> kernel_size{2, 2};
  std::vector<int64_t> stride{};  // empty: the kernel size
  std::vector<int64_t> padding{0, 0};
  bool ceil_mode = false;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const PoolOptions& options) : options_(options) {}
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;

 private:
  PoolOptions options_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const PoolOptions& options) : options_(options) {}
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;

 private:
  PoolOptions options_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(std::vector<int64_t> output_size = {1, 1})
      : output_size_(std::move(output_size)) {}
  Tensor forward(const Tensor& input) override;
  std::string describe() const override;

 private:
  std::vector<int64_t> output_size_;
};

// Flattens dims start_dim..end_dim into one (a view when the strides allow, else a copy).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;
  std::string describe() const override { return "Flatten"; }

 private:
  int64_t start_dim_;
  int64_t end_dim_;
};

}  // namespace osprey::nn
