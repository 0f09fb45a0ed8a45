// The backward engine: runs the graph below `roots` in topological order, summing gradients that
// reach a node along several paths, and frees saved tensors afterwards unless retain_graph.
#pragma once

#include <vector>

#include "framework/core/tensor.h"

namespace osprey::autograd {

// `grad_roots[i]` may be undefined for a single-element root: ones are used.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
              bool retain_graph = false);

// Gradients of `outputs` w.r.t. `inputs` without touching any .grad (used by the gradient check).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs,
                         const std::vector<Tensor>& grad_outputs, const std::vector<Tensor>& inputs,
                         bool retain_graph = false);

}  // namespace osprey::autograd
