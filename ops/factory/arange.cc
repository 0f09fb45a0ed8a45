// The arange op (no inputs; attributes start, end, step, dtype) and the arange() functions, which
// allocate the output on the requested device and let that device's kernel fill it.
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/factory/factory.h"

namespace osprey::ops {
namespace {

Attrs arange_attrs(double start, double end, double step, DType dtype) {
  return {{"start", start}, {"end", end}, {"step", step}, {"dtype", dtype}};
}

std::vector<OpCase> arange_cases(DType dtype, uint64_t) {
  std::vector<OpCase> cases;
  cases.push_back({"unit-step", {}, arange_attrs(0, 5, 1, dtype)});
  cases.push_back({"fractional-step", {}, arange_attrs(-1.0, 1.0, 0.25, dtype)});
  cases.push_back({"non-divisible", {}, arange_attrs(0.5, 2.0, 0.4, dtype)});
  cases.push_back({"negative-step", {}, arange_attrs(3, -2, -1.5, dtype)});
  cases.push_back({"empty", {}, arange_attrs(2, 2, 1, dtype)});
  cases.push_back({"integers", {}, arange_attrs(-3, 7, 2, DType::i64)});
  cases.push_back({"large", {}, arange_attrs(0, 100000, 1, dtype)});
  return cases;
}

const bool registered = [] {
  OpDef def;
  def.schema = {"arange",
                {},
                {{"start", AttrType::real, 0.0, "first value"},
                 {"end", AttrType::real, std::nullopt, "exclusive bound"},
                 {"step", AttrType::real, 1.0, "spacing (non-zero)"},
                 {"dtype", AttrType::dtype, DType::f32, "element type of the output"}},
                {{"output", false}},
                "start + i*step for i in [0, ceil((end - start) / step))"};
  def.validate = [](const KernelContext& ctx) {
    const Attrs& a = ctx.attrs();
    arange_length(a.get_float("start"), a.get_float("end"), a.get_float("step"));
    OSPREY_CHECK_KIND(dtype, a.get_dtype("dtype") != DType::boolean,
                      "arange: dtype bool is not supported");
  };
  def.cases = arange_cases;
  dispatch::Registry::instance().add_op(std::move(def));
  return true;
}();

}  // namespace

int64_t arange_length(double start, double end, double step) {
  OSPREY_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
               "arange: start {}, end {} and step {} must be finite", start, end, step);
  OSPREY_CHECK(step != 0.0, "arange: step must be non-zero");
  OSPREY_CHECK((end - start) * step >= 0.0,
               "arange: step {} points away from end (start {}, end {})", step, start, end);
  return static_cast<int64_t>(std::ceil((end - start) / step));
}

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  int64_t n = arange_length(start, end, step);
  autograd::NoGradGuard no_grad;
  Tensor out = Tensor::empty({n}, dtype, device);
  dispatch::call("arange", {}, arange_attrs(start, end, step, dtype), {out});
  return out;
}

Tensor arange(double end, DType dtype, Device device) {
  return arange(0.0, end, 1.0, dtype, device);
}

}  // namespace osprey::ops
