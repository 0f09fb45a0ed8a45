// cuda/native kernels of sigmoid_focal_loss and sigmoid_focal_loss_backward (math in
// sigmoid_focal_loss.h): the element-wise formulas of sigmoid_focal_loss_math.h (the same code the
// CPU reference runs) run by the shared weighted-loss kernels of weighted_elementwise_loss_cuda.cuh
// (cuda_map, library sum).
#include "ops/common/weighted_elementwise_loss_cuda.cuh"
#include "ops/sigmoid_focal_loss/sigmoid_focal_loss_math.h"

namespace osprey::ops {
namespace {

const bool registered = [] {
  weighted_loss::register_cuda("sigmoid_focal_loss", "sigmoid_focal_loss_backward", focal::loss_of,
                               focal::grad_of);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
