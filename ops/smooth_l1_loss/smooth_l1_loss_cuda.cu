// cuda/native kernels of smooth_l1_loss and smooth_l1_loss_backward (math in smooth_l1_loss.h):
// the element-wise formulas of smooth_l1_loss_math.h (the same code the CPU reference runs) run by
// the shared weighted-loss kernels of weighted_elementwise_loss_cuda.cuh (cuda_map, library sum).
#include "ops/common/weighted_elementwise_loss_cuda.cuh"
#include "ops/smooth_l1_loss/smooth_l1_loss_math.h"

namespace osprey::ops {
namespace {

const bool registered = [] {
  weighted_loss::register_cuda("smooth_l1_loss", "smooth_l1_loss_backward", smooth_l1::loss_of,
                               smooth_l1::grad_of);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
