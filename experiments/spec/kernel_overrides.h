// The spec's `kernel { op … device … impl … }` entries applied to the kernel registry for the
// duration of a run. The guard checks every entry first (an error names the entry's index and
// lists the op's kernels), then sets them all, and on destruction puts back whatever overrides
// were in place before (including ones from OSPREY_KERNELS).
#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "experiments/proto/osprey.pb.h"
#include "framework/dispatch/registry.h"

namespace osprey::experiments {

DeviceType to_device_type(proto::DeviceType device);

// Why an override cannot be applied ("field: message" relative to the entry), or empty when it
// can. A CUDA entry is only checked against the op's CUDA kernels when this build registered any
// CUDA kernel at all, so that a GPU spec validates on a CPU-only build.
std::string kernel_override_problem(const proto::KernelOverride& entry,
                                    const dispatch::Registry& registry);

class KernelOverrideGuard {
 public:
  explicit KernelOverrideGuard(
      const google::protobuf::RepeatedPtrField<proto::KernelOverride>& entries,
      dispatch::Registry& registry = dispatch::Registry::instance());
  ~KernelOverrideGuard();
  KernelOverrideGuard(const KernelOverrideGuard&) = delete;
  KernelOverrideGuard& operator=(const KernelOverrideGuard&) = delete;

  // "conv2d:cpu=im2col_gemm" for each applied entry.
  const std::vector<std::string>& applied() const { return applied_; }

 private:
  void restore();
  dispatch::Registry& registry_;
  // What each touched (op, device) had before, in application order.
  std::vector<std::tuple<std::string, DeviceType, std::optional<std::string>>> previous_;
  std::vector<std::string> applied_;
};

}  // namespace osprey::experiments
