// `osprey check-kernel OP --impl NAME [--device cpu|cuda] [--seed N]`: runs the op's case list in
// f32 and f64 through the chosen kernel and through cpu/reference, compares outputs and (for
// differentiable ops) input gradients with the per-dtype tolerances of framework/dispatch/
// tolerance.h, prints one table row per case, then times both kernels on the largest case.
// The exit status is non-zero when any case mismatches.
#include <chrono>
#include <iostream>
#include <optional>
#include <ostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/op_runner.h"
#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/backend.h"
#include "framework/dispatch/tolerance.h"
#include "ops/common/case_helpers.h"

namespace osprey::cli {
namespace {

struct CaseRun {
  std::vector<Tensor> outputs;  // on the CPU
  std::vector<Tensor> grads;    // one per input (undefined where none), on the CPU
};

bool wants_grad(const dispatch::OpDef& def, const dispatch::OpCase& c, size_t i) {
  const Tensor& t = c.inputs[i];
  return t.defined() && is_floating(t.dtype()) && def.schema.input_spec(i).differentiable;
}

// Runs one case with `impl` on `device`; with `with_grad`, backpropagates fixed random output
// gradients (the same for every kernel: they depend only on the seed and the output index).
CaseRun run_case(const dispatch::OpDef& def, const dispatch::OpCase& c, Device device,
                 const std::string& impl, bool with_grad, uint64_t seed) {
  KernelOverride forced(def.schema.name, device.type, impl);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i].defined()) {
      inputs.emplace_back();
      continue;
    }
    Tensor t = c.inputs[i].to(device).detach();
    if (with_grad && wants_grad(def, c, i)) t.set_requires_grad(true);
    inputs.push_back(t);
  }
  CaseRun run;
  std::vector<Tensor> outputs;
  if (with_grad) {
    autograd::EnableGradGuard enable;
    outputs = call_on_device(def.schema.name, inputs, c.attrs, device);
  } else {
    autograd::NoGradGuard no_grad;
    outputs = call_on_device(def.schema.name, inputs, c.attrs, device);
  }
  for (const auto& t : outputs) run.outputs.push_back(t.detach().cpu());
  run.grads.resize(inputs.size());
  if (!with_grad) return run;

  std::vector<Tensor> roots, root_grads, leaves;
  std::vector<size_t> leaf_index;
  ops::CaseRandom rng(seed + 1000);
  for (const auto& t : outputs) {
    Tensor g = rng.uniform(t.shape(), t.dtype(), -1.0, 1.0);
    if (!t.requires_grad()) continue;
    roots.push_back(t);
    root_grads.push_back(g.to(device));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && inputs[i].requires_grad()) {
      leaves.push_back(inputs[i]);
      leaf_index.push_back(i);
    }
  }
  if (roots.empty() || leaves.empty()) return run;
  auto grads = autograd::grad(roots, root_grads, leaves);
  for (size_t k = 0; k < grads.size(); ++k) run.grads[leaf_index[k]] = grads[k].cpu();
  return run;
}

int64_t case_size(const dispatch::OpCase& c, const CaseRun& run) {
  int64_t size = 0;
  for (const auto& t : c.inputs) size += t.defined() ? t.numel() : 0;
  for (const auto& t : run.outputs) size += t.numel();
  return size;
}

void synchronize(Device device) {
  if (!device.is_cpu()) backend(device.type).synchronize(device);
}

// Milliseconds per call: one warm-up call, then repeats until about 0.2 s have passed.
double time_kernel(const dispatch::OpDef& def, const dispatch::OpCase& c, Device device,
                   const std::string& impl) {
  KernelOverride forced(def.schema.name, device.type, impl);
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> inputs;
  for (const auto& t : c.inputs) inputs.push_back(t.defined() ? t.to(device) : Tensor());
  call_on_device(def.schema.name, inputs, c.attrs, device);
  synchronize(device);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  int calls = 0;
  double elapsed = 0;
  while (calls < 3 || (elapsed < 0.2 && calls < 10000)) {
    call_on_device(def.schema.name, inputs, c.attrs, device);
    ++calls;
    if (calls % 4 == 0 || calls < 4) synchronize(device);
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  synchronize(device);
  elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return 1e3 * elapsed / calls;
}

std::string error_cell(double error, bool any) {
  return any ? fmt::format("{:.3g}", error) : std::string("-");
}

}  // namespace

int run_check_kernel(const CheckKernelOptions& options, std::ostream& out) {
  auto& registry = dispatch::Registry::instance();
  const dispatch::OpDef& def = registry.op(options.op);
  Device device = Device::parse(options.device);
  OSPREY_CHECK(!options.impl.empty(), "--impl is required");
  const dispatch::Kernel& chosen = registry.kernel(options.op, device.type, options.impl);
  registry.kernel(options.op, DeviceType::cpu, "reference");
  OSPREY_CHECK(static_cast<bool>(def.cases), "op '{}' has no case list", options.op);
  const bool differentiable = static_cast<bool>(def.backward);

  out << fmt::format("check-kernel {} against {}/cpu/reference (seed {}{})\n", chosen.key(),
                     options.op, options.seed, differentiable ? ", values and gradients" : "");
  out << fmt::format("{:<5} {:<24} {:<16} {:>11} {:>11}  {}\n", "dtype", "case", "shape",
                     "max|err|", "grad err", "result");
  int mismatches = 0, compared = 0, unsupported = 0;
  std::optional<dispatch::OpCase> largest;  // the f32 case timed at the end
  int64_t largest_size = -1;
  for (DType dtype : {DType::f32, DType::f64}) {
    auto cases = def.cases(dtype, options.seed);
    for (const auto& c : cases) {
      bool with_grad = differentiable && !c.skip_gradcheck;
      if (with_grad) {
        bool any = false;
        for (size_t i = 0; i < c.inputs.size(); ++i) any |= wants_grad(def, c, i);
        with_grad = any;
      }
      CaseRun expected = run_case(def, c, Device::cpu(), "reference", with_grad, options.seed);
      std::string shape =
          expected.outputs.empty() ? std::string("-") : shape_str(expected.outputs[0].shape());
      CaseRun actual;
      try {
        actual = run_case(def, c, device, options.impl, with_grad, options.seed);
      } catch (const Error& e) {
        // A kernel that declines a call (its supports() or its dtype switch) is not wrong; any
        // other error is.
        bool declined = e.kind() == ErrorKind::not_found || e.kind() == ErrorKind::dtype;
        out << fmt::format("{:<5} {:<24} {:<16} {:>11} {:>11}  {}: {}\n", dtype_name(dtype), c.name,
                           shape, "-", "-", declined ? "unsupported" : "ERROR", e.message());
        ++(declined ? unsupported : mismatches);
        continue;
      }
      ++compared;
      dispatch::Tolerance tol = dispatch::tolerance_for(dtype);
      std::string problem;
      double value_error = 0, grad_error = 0;
      for (size_t o = 0; o < expected.outputs.size(); ++o) {
        auto cmp = dispatch::compare_tensors(actual.outputs[o], expected.outputs[o],
                                             dispatch::tolerance_for(expected.outputs[o].dtype()));
        value_error = std::max(value_error, cmp.max_abs_error);
        if (!cmp.ok && problem.empty()) problem = fmt::format("output {}: {}", o, cmp.message);
      }
      bool any_grad = false;
      for (size_t i = 0; i < expected.grads.size(); ++i) {
        if (!expected.grads[i].defined()) continue;
        any_grad = true;
        if (!actual.grads[i].defined()) {
          if (problem.empty()) problem = fmt::format("no gradient for input {}", i);
          continue;
        }
        auto cmp = dispatch::compare_tensors(actual.grads[i], expected.grads[i], tol);
        grad_error = std::max(grad_error, cmp.max_abs_error);
        if (!cmp.ok && problem.empty()) {
          problem =
              fmt::format("gradient of input '{}': {}", def.schema.input_spec(i).name, cmp.message);
        }
      }
      if (!problem.empty()) ++mismatches;
      out << fmt::format("{:<5} {:<24} {:<16} {:>11} {:>11}  {}\n", dtype_name(dtype), c.name,
                         shape, error_cell(value_error, true), error_cell(grad_error, any_grad),
                         problem.empty() ? std::string("ok") : "MISMATCH " + problem);
      if (dtype == DType::f32 && case_size(c, expected) > largest_size) {
        largest_size = case_size(c, expected);
        largest = c;
      }
    }
  }
  out << fmt::format("{} cases compared, {} mismatched, {} unsupported by {}\n", compared,
                     mismatches, unsupported, chosen.key());
  if (compared == 0) {
    out << "no case ran on the chosen kernel\n";
    ++mismatches;
  }
  if (options.timing && largest && mismatches == 0) {
    double reference_ms = time_kernel(def, *largest, Device::cpu(), "reference");
    double chosen_ms = time_kernel(def, *largest, device, options.impl);
    out << fmt::format(
        "timing on case '{}' (f32): {}/cpu/reference {:.4f} ms, {} {:.4f} ms, speed-up {:.2f}x\n",
        largest->name, options.op, reference_ms, chosen.key(), chosen_ms,
        chosen_ms > 0 ? reference_ms / chosen_ms : 0.0);
  }
  return mismatches;
}

void add_check_kernel_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check-kernel", "compare a kernel with cpu/reference over the op's cases, and time both");
  auto options = std::make_shared<CheckKernelOptions>();
  cmd->add_option("op", options->op, "the op (see `osprey ops`)")->required();
  cmd->add_option("--impl", options->impl, "the kernel implementation to check")->required();
  cmd->add_option("--device", options->device, "cpu, cuda or cuda:N")->default_val("cpu");
  cmd->add_option("--seed", options->seed, "seed of the case inputs")->default_val(0);
  cmd->add_flag("!--no-timing", options->timing, "skip the timing");
  cmd->callback([options] {
    if (run_check_kernel(*options, std::cout) != 0) set_exit_code(1);
  });
}

}  // namespace osprey::cli
