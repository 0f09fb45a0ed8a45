// The autograd graph: each op call that needs gradients records a Node holding what its backward
// needs and an edge per input to the node that produced that input (or to the leaf's gradient
// accumulator).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/dispatch/op_def.h"

namespace osprey::autograd {

class Node;

struct Edge {
  std::shared_ptr<Node> node;  // null: this input needs no gradient
  int input_nr = 0;            // which of node's outputs the gradient belongs to
  bool valid() const { return node != nullptr; }
};

class Node {
 public:
  virtual ~Node() = default;
  // Gradients w.r.t. this node's outputs in, gradients w.r.t. its inputs out (one per edge).
  virtual std::vector<Tensor> apply(std::vector<Tensor> grad_outputs) = 0;
  virtual std::string name() const = 0;
  virtual int num_outputs() const = 0;
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  // Hooks on the gradient arriving at output i (registered through Tensor::register_hook).
  std::vector<std::vector<GradHook>> output_hooks;
  // Non-leaf tensors that asked to keep their gradient (Tensor::retain_grad), per output.
  std::vector<std::weak_ptr<TensorImpl>> retained;
};

// The backward of one dispatched op call.
class OpNode final : public Node {
 public:
  OpNode(const dispatch::OpDef& op, dispatch::BackwardContext saved,
         std::vector<uint64_t> saved_versions, std::vector<Shape> output_shapes,
         std::vector<DType> output_dtypes, Device device);
  std::vector<Tensor> apply(std::vector<Tensor> grad_outputs) override;
  std::string name() const override;
  int num_outputs() const override { return static_cast<int>(output_shapes_.size()); }
  void release_saved() override;

 private:
  const dispatch::OpDef& op_;
  dispatch::BackwardContext saved_;
  std::vector<uint64_t> saved_versions_;  // inputs first, then outputs
  std::vector<Shape> output_shapes_;
  std::vector<DType> output_dtypes_;
  Device device_;
  bool released_ = false;
};

// Sums gradients into a leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::vector<Tensor> apply(std::vector<Tensor> grad_outputs) override;
  std::string name() const override { return "AccumulateGrad"; }
  int num_outputs() const override { return 1; }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The edge through which a gradient for `tensor` flows: its grad_fn, or its leaf accumulator (made
// on first use), or none when it does not require grad.
Edge gradient_edge(const Tensor& tensor);

}  // namespace osprey::autograd
