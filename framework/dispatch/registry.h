// The op and kernel registry and the single entry point that runs an op: `call`. Kernel selection
// is by priority among kernels whose `supports` accepts the call, unless overridden through
// `set_kernel_override` or the environment variable OSPREY_KERNELS
// ("matmul:cuda=mykernel,conv2d:cpu=reference"). Unknown or unsupported names are errors that
// list what exists; there is no silent fallback.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framework/dispatch/op_def.h"

namespace osprey::dispatch {

class Registry {
 public:
  static Registry& instance();

  void add_op(OpDef op);           // a duplicate name is an error
  void add_kernel(Kernel kernel);  // a duplicate key is an error
  bool has_op(std::string_view name) const;
  const OpDef& op(std::string_view name) const;  // not_found lists the known ops
  std::vector<std::string> op_names() const;     // sorted
  // Kernels of `op` for `device`, highest priority first.
  std::vector<const Kernel*> kernels(std::string_view op, DeviceType device) const;
  std::vector<const Kernel*> kernels(std::string_view op) const;  // every device
  const Kernel& kernel(std::string_view op, DeviceType device, std::string_view impl) const;

  // Chooses the kernel for a call (see file comment). Throws when none fits.
  const Kernel& select(const KernelContext& ctx) const;

  void set_override(std::string_view op, DeviceType device, std::string_view impl);
  void clear_override(std::string_view op, DeviceType device);
  std::optional<std::string> override_for(std::string_view op, DeviceType device) const;
  // Parses "op:device=impl,..." (the OSPREY_KERNELS syntax) and applies it.
  void apply_overrides(std::string_view spec);

  // Errors found by a consistency check: ops without cpu/reference or cases, kernels of unknown
  // ops. Empty when the registry is sound.
  std::vector<std::string> problems() const;

 private:
  Registry();
  std::map<std::string, OpDef, std::less<>> ops_;
  std::map<std::string, std::vector<Kernel>, std::less<>> kernels_;  // by op, sorted by priority
  std::map<std::string, std::string, std::less<>> overrides_;        // "op:device" -> impl
  std::vector<std::string> duplicate_errors_;
};

// Static registration helpers: `static OpRegistrar reg{def};` in an op's .cc file.
struct OpRegistrar {
  explicit OpRegistrar(OpDef op) { Registry::instance().add_op(std::move(op)); }
};
struct KernelRegistrar {
  explicit KernelRegistrar(Kernel kernel) { Registry::instance().add_kernel(std::move(kernel)); }
};

// Runs op `name`: checks the call against the schema and the op's validator, selects and runs a
// kernel, and records the autograd node when gradients are needed. `outputs` may hold tensors to
// write into (out= / in-place), which never records autograd.
std::vector<Tensor> call(std::string_view name, std::vector<Tensor> inputs, const Attrs& attrs = {},
                         std::vector<Tensor> outputs = {});
// The single-output form.
Tensor call1(std::string_view name, std::vector<Tensor> inputs, const Attrs& attrs = {});
// Writes op `name`'s output 0 into `out` (broadcast-compatible kernels only): in-place updates.
void call_out(std::string_view name, const Tensor& out, std::vector<Tensor> inputs,
              const Attrs& attrs = {});

// The key of the kernel the last call on this thread ran ("add/cpu/reference").
const std::string& last_kernel_key();

// Forward hooks see every op call's inputs and outputs (activation capture for analysis).
using ForwardHook =
    std::function<void(const OpDef&, const std::vector<Tensor>&, const std::vector<Tensor>&)>;
int add_forward_hook(ForwardHook hook);  // returns an id for remove_forward_hook
void remove_forward_hook(int id);

}  // namespace osprey::dispatch
