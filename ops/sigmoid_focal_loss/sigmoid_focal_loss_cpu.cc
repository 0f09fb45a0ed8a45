// CPU reference kernels of sigmoid_focal_loss and sigmoid_focal_loss_backward (math in
// sigmoid_focal_loss.h): the element-wise formulas of sigmoid_focal_loss_math.h run by the shared
// weighted-loss kernels of weighted_elementwise_loss_cpu.h (cpu_map, serial double sum). f32, f64.
#include "ops/common/weighted_elementwise_loss_cpu.h"
#include "ops/sigmoid_focal_loss/sigmoid_focal_loss_math.h"

namespace osprey::ops {
namespace {

const bool registered = [] {
  weighted_loss::register_cpu("sigmoid_focal_loss", "sigmoid_focal_loss_backward", focal::loss_of,
                              focal::grad_of);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
