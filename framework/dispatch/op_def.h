// Everything an op declares once, independent of its kernels: schema, argument validation (the
// shape rule), the derivative, what the backward needs saved, and the op's case list.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/dispatch/kernel.h"
#include "framework/dispatch/schema.h"

namespace osprey::dispatch {

// What a backward formula sees. Saved tensors are detached aliases; input metadata is always kept.
struct BackwardContext {
  const OpDef* op = nullptr;
  Attrs attrs;
  std::vector<Tensor> inputs;   // saved inputs (undefined when the op saves none)
  std::vector<Tensor> outputs;  // saved outputs (undefined when the op saves none)
  std::vector<Shape> input_shapes;
  std::vector<DType> input_dtypes;
  std::vector<bool> input_defined;
  Device device;                     // where the op ran (all its inputs' device)
  std::vector<Tensor> grad_outputs;  // one per output; zeros where no gradient arrived
  std::vector<bool> needs_input_grad;

  const Tensor& input(int i) const { return inputs.at(i); }
  const Tensor& output(int i) const { return outputs.at(i); }
  const Tensor& grad_output(int i = 0) const { return grad_outputs.at(i); }
  bool needs_grad(int i) const { return needs_input_grad.at(i); }
};

// Returns one gradient per input (undefined where not needed or not differentiable). Runs with
// gradient recording off and calls other ops, so backward kernels are dispatched and swappable too.
using BackwardFn = std::function<std::vector<Tensor>(const BackwardContext&)>;
// Checks arguments beyond the schema (shapes, dtypes, values); throws errors naming them.
using ValidateFn = std::function<void(const KernelContext&)>;

// One test/benchmark case of an op: inputs (CPU, of the requested floating dtype) and attributes.
struct OpCase {
  std::string name;
  std::vector<Tensor> inputs;
  Attrs attrs;
  // Inputs whose values must stay away from non-differentiable points (|x| near 0 for abs, ...)
  // are generated that way by the case itself; `skip_gradcheck` marks cases that only test values.
  bool skip_gradcheck = false;
};
using CaseFn = std::function<std::vector<OpCase>(DType dtype, uint64_t seed)>;

struct OpDef {
  OpSchema schema;
  ValidateFn validate;
  BackwardFn backward;  // empty: not differentiable
  bool save_inputs = true;
  bool save_outputs = false;
  // Inputs never saved even with save_inputs: buffers the kernel updates in place (batch_norm's
  // running stats), whose later updates must not invalidate this call's backward.
  std::vector<int> unsaved_inputs;
  CaseFn cases;
  // The outputs alias input 0's storage (views); such ops run on every device with one kernel.
  bool is_view = false;
};

}  // namespace osprey::dispatch
