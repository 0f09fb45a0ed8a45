// Schemas, validation and case lists of uniform, normal, bernoulli and randperm, and the C++
// functions that draw their stream position from a Generator.
#include "ops/random/random.h"

#include "framework/dispatch/registry.h"
#include "ops/common/case_helpers.h"
#include "ops/common/op_helpers.h"

namespace osprey::ops {
namespace {

std::vector<AttrSpec> stream_attrs() {
  return {{"seed", AttrType::integer, int64_t{0}, "Philox key (the generator's seed)"},
          {"offset", AttrType::integer, int64_t{0}, "first Philox block to draw from"}};
}

void validate_shape_attrs(const KernelContext& ctx) {
  const auto& name = ctx.op().schema.name;
  for (int64_t size : ctx.attrs().get_ints("shape")) {
    OSPREY_CHECK(size >= 0, "{}: shape {} has a negative size", name,
                 shape_str(ctx.attrs().get_ints("shape")));
  }
  DType dtype = ctx.attrs().get_dtype("dtype");
  OSPREY_CHECK_KIND(dtype, is_floating(dtype), "{}: dtype must be floating, got {}", name,
                    dtype_name(dtype));
}

OpDef generator_def(const char* name, const char* a, double a_default, const char* b,
                    double b_default, const char* doc) {
  OpDef def;
  def.schema.name = name;
  def.schema.attrs = {{"shape", AttrType::integers, std::nullopt, "output shape"},
                      {a, AttrType::real, a_default, ""},
                      {b, AttrType::real, b_default, ""}};
  for (auto& spec : stream_attrs()) def.schema.attrs.push_back(spec);
  def.schema.attrs.push_back({"dtype", AttrType::dtype, DType::f32, "output dtype (floating)"});
  def.schema.outputs = {{"output", false}};
  def.schema.doc = doc;
  return def;
}

// Shapes covering empty, 0-d, odd sizes (a partial last block) and a large tensor for timing.
std::vector<OpCase> generator_cases(DType dtype, uint64_t seed, const char* a, double a_value,
                                    const char* b, double b_value) {
  auto s = static_cast<int64_t>(seed);
  auto attrs = [&](std::vector<int64_t> shape, int64_t offset) {
    return Attrs{{"shape", shape}, {a, a_value},       {b, b_value},
                 {"seed", s},      {"offset", offset}, {"dtype", dtype}};
  };
  return {{"small", {}, attrs({3, 4}, 0), true},
          {"odd-size-offset", {}, attrs({7}, 5), true},
          {"scalar", {}, attrs({}, 1), true},
          {"empty", {}, attrs({0, 3}, 0), true},
          {"large", {}, attrs({512, 1024}, 3), true}};
}

const bool registered = [] {
  auto& r = dispatch::Registry::instance();

  OpDef uniform_def =
      generator_def("uniform", "low", 0.0, "high", 1.0, "uniform random numbers in [low, high)");
  uniform_def.validate = [](const KernelContext& ctx) {
    validate_shape_attrs(ctx);
    double low = ctx.attrs().get_float("low"), high = ctx.attrs().get_float("high");
    OSPREY_CHECK(low <= high, "uniform: low ({}) must not exceed high ({})", low, high);
  };
  uniform_def.cases = [](DType dtype, uint64_t seed) {
    return generator_cases(dtype, seed, "low", -2.0, "high", 3.0);
  };
  r.add_op(std::move(uniform_def));

  OpDef normal_def =
      generator_def("normal", "mean", 0.0, "std", 1.0, "normal random numbers (Box-Muller)");
  normal_def.validate = [](const KernelContext& ctx) {
    validate_shape_attrs(ctx);
    double std = ctx.attrs().get_float("std");
    OSPREY_CHECK(std >= 0.0, "normal: std must be non-negative, got {}", std);
  };
  normal_def.cases = [](DType dtype, uint64_t seed) {
    return generator_cases(dtype, seed, "mean", 0.5, "std", 2.0);
  };
  r.add_op(std::move(normal_def));

  OpDef bernoulli_def;
  bernoulli_def.schema = {"bernoulli",
                          {{"input", false}},
                          stream_attrs(),
                          {{"output", false}},
                          "1 with probability input, else 0 (same shape and dtype)"};
  bernoulli_def.validate = [](const KernelContext& ctx) { check_floating(ctx, 0); };
  bernoulli_def.cases = [](DType dtype, uint64_t seed) {
    CaseRandom rng(seed);
    auto s = static_cast<int64_t>(seed);
    return std::vector<OpCase>{
        {"small", {rng.uniform({3, 5}, dtype, 0.0, 1.0)}, {{"seed", s}}, true},
        {"non-contiguous",
         {non_contiguous(rng.uniform({4, 3}, dtype, 0.0, 1.0))},
         {{"seed", s}, {"offset", int64_t{9}}},
         true},
        {"scalar", {rng.uniform({}, dtype, 0.0, 1.0)}, {{"seed", s}}, true},
        {"empty", {rng.uniform({0, 4}, dtype, 0.0, 1.0)}, {{"seed", s}}, true},
        {"large", {rng.uniform({512, 1024}, dtype, 0.0, 1.0)}, {{"seed", s}}, true}};
  };
  r.add_op(std::move(bernoulli_def));

  OpDef randperm_def;
  randperm_def.schema = {"randperm",
                         {},
                         {{"n", AttrType::integer, std::nullopt, "length"}},
                         {{"output", false}},
                         "a random permutation of 0..n-1 (i64)"};
  for (auto& spec : stream_attrs()) randperm_def.schema.attrs.push_back(spec);
  randperm_def.validate = [](const KernelContext& ctx) {
    OSPREY_CHECK(ctx.attrs().get_int("n") >= 0, "randperm: n must be non-negative, got {}",
                 ctx.attrs().get_int("n"));
  };
  randperm_def.cases = [](DType, uint64_t seed) {
    auto s = static_cast<int64_t>(seed);
    return std::vector<OpCase>{{"empty", {}, {{"n", int64_t{0}}, {"seed", s}}, true},
                               {"one", {}, {{"n", int64_t{1}}, {"seed", s}}, true},
                               {"small", {}, {{"n", int64_t{10}}, {"seed", s}}, true},
                               {"large", {}, {{"n", int64_t{100000}}, {"seed", s}}, true}};
  };
  r.add_op(std::move(randperm_def));
  return true;
}();

Attrs stream_position(random::Generator& generator, uint64_t values) {
  random::GeneratorState start = generator.reserve(values);
  return {{"seed", static_cast<int64_t>(start.seed)},
          {"offset", static_cast<int64_t>(start.offset)}};
}

// Ops without tensor inputs run where their output lives: a CPU call allocates it, other devices
// get a preallocated output so the dispatcher picks that device's kernel.
Tensor generate(const char* op, const Shape& shape, DType dtype, Device device, Attrs attrs) {
  if (device.is_cpu()) return dispatch::call1(op, {}, attrs);
  return dispatch::call(op, {}, attrs, {Tensor::empty(shape, dtype, device)}).at(0);
}

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, random::Generator& generator,
               DType dtype, Device device) {
  Attrs attrs = stream_position(generator, static_cast<uint64_t>(shape_numel(shape)));
  attrs.set("shape", shape).set("low", low).set("high", high).set("dtype", dtype);
  return generate("uniform", shape, dtype, device, std::move(attrs));
}

Tensor normal(const Shape& shape, double mean, double std, random::Generator& generator,
              DType dtype, Device device) {
  Attrs attrs = stream_position(generator, static_cast<uint64_t>(shape_numel(shape)));
  attrs.set("shape", shape).set("mean", mean).set("std", std).set("dtype", dtype);
  return generate("normal", shape, dtype, device, std::move(attrs));
}

Tensor bernoulli(const Tensor& probabilities, random::Generator& generator) {
  Attrs attrs = stream_position(generator, static_cast<uint64_t>(probabilities.numel()));
  return dispatch::call1("bernoulli", {probabilities.detach()}, attrs);
}

Tensor randperm(int64_t n, random::Generator& generator) {
  OSPREY_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  Attrs attrs = stream_position(generator, 2 * static_cast<uint64_t>(n));
  attrs.set("n", n);
  return dispatch::call1("randperm", {}, attrs);
}

}  // namespace osprey::ops
