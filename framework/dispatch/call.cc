// The dispatcher's call path: schema check, validation, kernel selection, run, autograd recording.
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/dispatch/registry.h"

namespace osprey::dispatch {
namespace {

thread_local std::string last_key;

struct HookList {
  std::mutex mutex;
  std::vector<std::pair<int, ForwardHook>> hooks;
  int next_id = 1;
  bool any = false;
};
HookList& hook_list() {
  static HookList list;
  return list;
}

void apply_environment_overrides() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char* spec = std::getenv("OSPREY_KERNELS"))
      Registry::instance().apply_overrides(spec);
  });
}

std::string describe_inputs(const OpSchema& schema, const std::vector<Tensor>& inputs) {
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) out += ", ";
    out += (schema.inputs.empty() ? fmt::format("#{}", i) : schema.input_spec(i).name) + " " +
           (inputs[i].defined() ? inputs[i].describe() : std::string("none"));
  }
  return out;
}

// Coerces a given attribute value to the schema's type (an int where a float is expected, a
// single int for a list) so kernels can rely on the declared type.
AttrValue coerce(const OpSchema& schema, const AttrSpec& spec, const AttrValue& value) {
  auto fail = [&]() -> AttrValue {
    OSPREY_THROW(value, "op '{}': attribute '{}' expects {}, got {}", schema.name, spec.name,
                 attr_type_name(spec.type), attr_value_str(value));
  };
  switch (spec.type) {
    case AttrType::integer:
      if (std::holds_alternative<int64_t>(value)) return value;
      if (auto b = std::get_if<bool>(&value)) return static_cast<int64_t>(*b);
      return fail();
    case AttrType::real:
      if (std::holds_alternative<double>(value)) return value;
      if (auto i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
      return fail();
    case AttrType::boolean:
      if (std::holds_alternative<bool>(value)) return value;
      if (auto i = std::get_if<int64_t>(&value); i && (*i == 0 || *i == 1)) return *i == 1;
      return fail();
    case AttrType::string:
      if (std::holds_alternative<std::string>(value)) return value;
      return fail();
    case AttrType::integers:
      if (std::holds_alternative<std::vector<int64_t>>(value)) return value;
      if (auto i = std::get_if<int64_t>(&value)) return std::vector<int64_t>{*i};
      return fail();
    case AttrType::reals:
      if (std::holds_alternative<std::vector<double>>(value)) return value;
      if (auto v = std::get_if<std::vector<int64_t>>(&value)) {
        return std::vector<double>(v->begin(), v->end());
      }
      if (auto d = std::get_if<double>(&value)) return std::vector<double>{*d};
      if (auto i = std::get_if<int64_t>(&value)) return std::vector<double>{double(*i)};
      return fail();
    case AttrType::dtype:
      if (std::holds_alternative<DType>(value)) return value;
      if (auto s = std::get_if<std::string>(&value)) return dtype_from_name(*s);
      return fail();
  }
  return fail();
}

Attrs complete_attrs(const OpSchema& schema, const Attrs& given) {
  for (const auto& [name, value] : given.items()) {
    if (!schema.find_attr(name)) {
      std::vector<std::string> known;
      for (const auto& a : schema.attrs) known.push_back(a.name);
      OSPREY_THROW(not_found, "op '{}' has no attribute '{}' (attributes: {})", schema.name, name,
                   known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", ")));
    }
  }
  Attrs full;
  for (const auto& spec : schema.attrs) {
    if (given.has(spec.name)) {
      full.set(spec.name, coerce(schema, spec, given.get(spec.name)));
    } else if (spec.default_value) {
      full.set(spec.name, *spec.default_value);
    } else {
      OSPREY_THROW(value, "op '{}': required attribute '{}' ({}) is missing", schema.name,
                   spec.name, attr_type_name(spec.type));
    }
  }
  return full;
}

Device common_device(const OpSchema& schema, const std::vector<Tensor>& inputs,
                     const std::vector<Tensor>& outputs) {
  const Tensor* first = nullptr;
  for (const auto& t : inputs) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
    } else if (t.device() != first->device()) {
      OSPREY_THROW(device, "op '{}': inputs are on different devices ({})", schema.name,
                   describe_inputs(schema, inputs));
    }
  }
  for (const auto& t : outputs) {
    if (t.defined() && first && t.device() != first->device()) {
      OSPREY_THROW(device, "op '{}': output {} is not on the inputs' device {}", schema.name,
                   t.describe(), first->device().str());
    }
  }
  if (first) return first->device();
  for (const auto& t : outputs) {
    if (t.defined()) return t.device();
  }
  return Device::cpu();
}

void record_autograd(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs,
                     std::vector<Tensor>& outputs, Device device) {
  const auto& schema = op.schema;
  std::vector<bool> needs(inputs.size(), false);
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    needs[i] =
        inputs[i].defined() && schema.input_spec(i).differentiable && inputs[i].requires_grad();
    any |= needs[i];
  }
  if (!any) return;

  BackwardContext saved;
  saved.op = &op;
  saved.attrs = attrs;
  saved.needs_input_grad = needs;
  saved.device = device;
  std::vector<uint64_t> versions;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    saved.input_defined.push_back(t.defined());
    saved.input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    saved.input_dtypes.push_back(t.defined() ? t.dtype() : DType::f32);
    const bool unsaved = std::find(op.unsaved_inputs.begin(), op.unsaved_inputs.end(),
                                   static_cast<int>(i)) != op.unsaved_inputs.end();
    if (op.save_inputs && t.defined() && !unsaved) {
      saved.inputs.push_back(t.detach());
      versions.push_back(t.version());
    } else {
      saved.inputs.emplace_back();
      versions.push_back(0);
    }
  }
  for (const auto& t : outputs) {
    if (op.save_outputs) {
      saved.outputs.push_back(t.detach());
      versions.push_back(t.version());
    } else {
      saved.outputs.emplace_back();
      versions.push_back(0);
    }
  }
  std::vector<Shape> out_shapes;
  std::vector<DType> out_dtypes;
  for (const auto& t : outputs) {
    out_shapes.push_back(t.shape());
    out_dtypes.push_back(t.dtype());
  }
  auto node =
      std::make_shared<autograd::OpNode>(op, std::move(saved), std::move(versions),
                                         std::move(out_shapes), std::move(out_dtypes), device);
  for (size_t i = 0; i < inputs.size(); ++i) {
    node->next_edges.push_back(needs[i] ? autograd::gradient_edge(inputs[i]) : autograd::Edge{});
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!schema.outputs[i].differentiable || !is_floating(outputs[i].dtype())) continue;
    // Outputs get their own TensorImpl so views of a leaf do not turn the leaf into a non-leaf.
    auto impl = std::make_shared<TensorImpl>(*outputs[i].impl());
    impl->grad_fn = node;
    impl->output_nr = static_cast<int>(i);
    impl->requires_grad = false;
    impl->grad.reset();
    impl->hooks.clear();
    outputs[i] = Tensor(std::move(impl));
  }
}

}  // namespace

std::vector<Tensor> call(std::string_view name, std::vector<Tensor> inputs, const Attrs& attrs,
                         std::vector<Tensor> outputs) {
  apply_environment_overrides();
  Registry& registry = Registry::instance();
  const OpDef& op = registry.op(name);
  const OpSchema& schema = op.schema;

  if (schema.is_variadic()) {
    OSPREY_CHECK(inputs.size() >= schema.inputs.size(),
                 "op '{}' takes at least {} inputs, got {}: {}", schema.name, schema.inputs.size(),
                 inputs.size(), schema.str());
  } else {
    if (inputs.size() < schema.inputs.size()) inputs.resize(schema.inputs.size());
    if (inputs.size() > schema.inputs.size()) {
      OSPREY_THROW(value, "op '{}' takes {} inputs, got {}: {}", schema.name, schema.inputs.size(),
                   inputs.size(), schema.str());
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() && !schema.input_spec(i).optional) {
      OSPREY_THROW(value, "op '{}': input '{}' is required", schema.name,
                   schema.input_spec(i).name);
    }
  }
  if (outputs.size() > schema.outputs.size()) {
    OSPREY_THROW(value, "op '{}' has {} outputs, {} were given to write into", schema.name,
                 schema.outputs.size(), outputs.size());
  }
  bool writes_in_place = false;
  for (const auto& t : outputs) writes_in_place |= t.defined();
  if (writes_in_place && autograd::grad_enabled()) {
    for (const auto& t : outputs) {
      if (t.defined() && t.requires_grad()) {
        OSPREY_THROW(autograd,
                     "op '{}': cannot write in place into {} because it requires grad; use a "
                     "NoGradGuard or an out-of-place op",
                     schema.name, t.describe());
      }
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].defined() && inputs[i].requires_grad() && schema.input_spec(i).differentiable) {
        OSPREY_THROW(autograd,
                     "op '{}': writing into a given output is not differentiable, but input '{}' "
                     "requires grad",
                     schema.name, schema.input_spec(i).name);
      }
    }
  }

  Attrs full_attrs = complete_attrs(schema, attrs);
  Device device = common_device(schema, inputs, outputs);
  KernelContext ctx(op, std::move(inputs), full_attrs, std::move(outputs), device);
  const Kernel* kernel = nullptr;
  try {
    if (op.validate) op.validate(ctx);
    kernel = &registry.select(ctx);
    ctx.set_kernel(kernel);
    last_key = kernel->key();
    {
      // Kernels that compose other ops must not record them: the op's own node is the record.
      autograd::NoGradGuard no_grad;
      kernel->fn(ctx);
    }
    last_key = kernel->key();  // again: ops the kernel called (a copy_) set it meanwhile
    for (size_t i = 0; i < ctx.outputs().size(); ++i) {
      if (!ctx.outputs()[i].defined()) {
        OSPREY_THROW(internal, "kernel did not produce output '{}'", schema.outputs[i].name);
      }
    }
  } catch (Error& e) {
    e.add_context(fmt::format("in op '{}'{} with {}{}", schema.name,
                              kernel ? " (" + kernel->key() + ")" : std::string(),
                              describe_inputs(schema, ctx.inputs()),
                              full_attrs.items().empty() ? "" : "; " + full_attrs.str()));
    throw;
  }

  std::vector<Tensor> results = std::move(ctx.outputs());
  if (writes_in_place) {
    for (size_t i = 0; i < results.size(); ++i) {
      if (ctx.has_preset_output(static_cast<int>(i))) results[i].bump_version();
    }
  } else if (op.backward && autograd::grad_enabled()) {
    record_autograd(op, ctx.inputs(), full_attrs, results, device);
  }

  HookList& hooks = hook_list();
  thread_local bool in_hook = false;  // ops called by a hook do not re-enter the hooks
  if (hooks.any && !in_hook) {
    std::vector<std::pair<int, ForwardHook>> snapshot;
    {
      std::lock_guard<std::mutex> lock(hooks.mutex);
      snapshot = hooks.hooks;
    }
    in_hook = true;
    try {
      for (const auto& [id, hook] : snapshot) hook(op, ctx.inputs(), results);
    } catch (...) {
      in_hook = false;
      throw;
    }
    in_hook = false;
  }
  return results;
}

Tensor call1(std::string_view name, std::vector<Tensor> inputs, const Attrs& attrs) {
  return call(name, std::move(inputs), attrs).at(0);
}

void call_out(std::string_view name, const Tensor& out, std::vector<Tensor> inputs,
              const Attrs& attrs) {
  call(name, std::move(inputs), attrs, {out});
}

const std::string& last_kernel_key() {
  return last_key;
}

int add_forward_hook(ForwardHook hook) {
  HookList& hooks = hook_list();
  std::lock_guard<std::mutex> lock(hooks.mutex);
  int id = hooks.next_id++;
  hooks.hooks.emplace_back(id, std::move(hook));
  hooks.any = true;
  return id;
}

void remove_forward_hook(int id) {
  HookList& hooks = hook_list();
  std::lock_guard<std::mutex> lock(hooks.mutex);
  std::erase_if(hooks.hooks, [id](const auto& entry) { return entry.first == id; });
  hooks.any = !hooks.hooks.empty();
}

}  // namespace osprey::dispatch
