#include "ops/reduce/sum_to.h"

#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

const bool registered = [] {
  OpDef def;
  def.schema = {"sum_to",
                {{"input"}},
                {{"shape", AttrType::integers}},
                {{"output"}},
                "sums input down to a shape that broadcasts to it"};
  def.save_inputs = false;
  def.validate = [](const KernelContext& ctx) {
    Shape target = ctx.attrs().get_ints("shape");
    Shape b = broadcast_shapes(target, ctx.input(0).shape(), "sum_to");
    OSPREY_CHECK_KIND(shape, b == ctx.input(0).shape(),
                      "sum_to: shape {} does not broadcast to the input {}", shape_str(target),
                      ctx.input(0).describe());
  };
  def.backward = [](const BackwardContext& ctx) {
    return std::vector<Tensor>{ctx.grad_output().expand(ctx.input_shapes[0]).contiguous()};
  };
  def.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    return std::vector<OpCase>{
        {"rows", {rng.uniform({3, 4}, dtype)}, {{"shape", Shape{4}}}},
        {"keep-dims", {rng.uniform({2, 3, 4}, dtype)}, {{"shape", Shape{2, 1, 4}}}},
        {"to-scalar", {rng.uniform({2, 3}, dtype)}, {{"shape", Shape{}}}},
        {"non-contiguous", {non_contiguous(rng.uniform({5, 3}, dtype))}, {{"shape", Shape{1, 3}}}}};
  };
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace
}  // namespace osprey::ops
