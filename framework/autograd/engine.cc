#include "framework/autograd/engine.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/dispatch/registry.h"

namespace osprey::autograd {
namespace {

Tensor ones_like_root(const Tensor& root) {
  if (root.numel() != 1) {
    OSPREY_THROW(autograd, "backward of a non-scalar tensor {} needs an explicit gradient",
                 root.describe());
  }
  Tensor ones = Tensor::empty(root.shape(), root.dtype(), root.device());
  ones.fill_(1.0);
  return ones;
}

void accumulate(Tensor& slot, const Tensor& grad) {
  slot = slot.defined() ? dispatch::call1("add", {slot, grad}) : grad;
}

struct Capture {
  Node* node;
  int slot;
  size_t index;
};

// Runs the graph. With `captures`, gradients arriving at those (node, slot) pairs are recorded and
// leaf accumulators are not run (autograd::grad); otherwise leaves accumulate into .grad.
std::vector<Tensor> run(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                        bool retain_graph, const std::vector<Capture>* captures) {
  OSPREY_CHECK_KIND(autograd, roots.size() == grad_roots.size() || grad_roots.empty(),
                    "backward: {} roots but {} root gradients", roots.size(), grad_roots.size());
  NoGradGuard no_grad;

  // Dependencies: how many edges point at each node from nodes that will run.
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<Node*, std::shared_ptr<Node>> owners;
  std::vector<Node*> stack;
  std::vector<Edge> root_edges;
  for (const auto& root : roots) {
    if (!root.requires_grad()) {
      OSPREY_THROW(autograd, "backward: tensor {} does not require grad and has no grad_fn",
                   root.describe());
    }
    Edge e = gradient_edge(root);
    root_edges.push_back(e);
    if (!owners.count(e.node.get())) {
      owners[e.node.get()] = e.node;
      stack.push_back(e.node.get());
    }
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const auto& edge : node->next_edges) {
      if (!edge.valid()) continue;
      Node* next = edge.node.get();
      if (dependencies[next]++ == 0 && !owners.count(next)) {
        owners[next] = edge.node;
        stack.push_back(next);
      }
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  auto buffer_of = [&](Node* node) -> std::vector<Tensor>& {
    auto& buffer = buffers[node];
    if (buffer.empty()) buffer.resize(node->num_outputs());
    return buffer;
  };
  for (size_t i = 0; i < roots.size(); ++i) {
    Tensor g =
        grad_roots.empty() || !grad_roots[i].defined() ? ones_like_root(roots[i]) : grad_roots[i];
    if (g.shape() != roots[i].shape()) {
      OSPREY_THROW(shape, "backward: gradient {} does not match its root {}", g.describe(),
                   roots[i].describe());
    }
    accumulate(buffer_of(root_edges[i].node.get())[root_edges[i].input_nr], g);
  }

  std::vector<Tensor> captured(captures ? captures->size() : 0);
  std::vector<Node*> ready;
  std::unordered_set<Node*> queued;
  for (const auto& e : root_edges) {
    if (dependencies[e.node.get()] == 0 && queued.insert(e.node.get()).second) {
      ready.push_back(e.node.get());
    }
  }
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    std::vector<Tensor> grads = std::move(buffer_of(node));
    buffers.erase(node);
    for (size_t slot = 0; slot < grads.size(); ++slot) {
      if (!grads[slot].defined()) continue;
      if (slot < node->output_hooks.size()) {
        for (const auto& hook : node->output_hooks[slot]) {
          Tensor replaced = hook(grads[slot]);
          if (replaced.defined()) grads[slot] = replaced;
        }
      }
      if (slot < node->retained.size()) {
        if (auto keep = node->retained[slot].lock()) {
          keep->grad = keep->grad
                           ? dispatch::call1("add", {Tensor(keep->grad), grads[slot]}).impl_ptr()
                           : grads[slot].clone().impl_ptr();
        }
      }
    }
    bool is_leaf_accumulator = dynamic_cast<AccumulateGrad*>(node) != nullptr;
    if (captures) {
      for (const auto& c : *captures) {
        if (c.node == node && grads[c.slot].defined()) accumulate(captured[c.index], grads[c.slot]);
      }
    }
    std::vector<Tensor> input_grads;
    if (!(captures && is_leaf_accumulator)) input_grads = node->apply(std::move(grads));
    if (!retain_graph) node->release_saved();
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& edge = node->next_edges[i];
      if (!edge.valid()) continue;
      Node* next = edge.node.get();
      if (i < input_grads.size() && input_grads[i].defined()) {
        accumulate(buffer_of(next)[edge.input_nr], input_grads[i]);
      }
      if (--dependencies[next] == 0 && queued.insert(next).second) ready.push_back(next);
    }
  }
  return captured;
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
              bool retain_graph) {
  run(roots, grad_roots, retain_graph, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs,
                         const std::vector<Tensor>& grad_outputs, const std::vector<Tensor>& inputs,
                         bool retain_graph) {
  std::vector<Capture> captures;
  std::vector<Edge> keep;  // holds accumulators made here alive for the run
  for (size_t i = 0; i < inputs.size(); ++i) {
    Edge e = gradient_edge(inputs[i]);
    OSPREY_CHECK_KIND(autograd, e.valid(), "grad: input {} ({}) does not require grad", i,
                      inputs[i].describe());
    keep.push_back(e);
    captures.push_back({e.node.get(), e.input_nr, i});
  }
  std::vector<Tensor> result = run(outputs, grad_outputs, retain_graph, &captures);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!result[i].defined()) {  // not reached from the outputs: the gradient is zero
      result[i] = Tensor::empty(inputs[i].shape(), inputs[i].dtype(), inputs[i].device());
      result[i].zero_();
    }
  }
  return result;
}

}  // namespace osprey::autograd
