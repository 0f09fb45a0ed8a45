// cpu/onednn kernels of conv2d, conv2d_backward_input and conv2d_backward_weight through oneDNN
// (Debian's libdnnl, an optional dependency: this file is compiled only when CMake finds it and
// then defines OSPREY_WITH_DNNL). oneDNN is what PyTorch runs for its CPU convolutions; its JIT
// kernels keep the activations in a channel-blocked layout (nChw16c on AVX-512) and win on 3×3
// convolutions with many channels and on the strided ones, where our direct kernel has to split
// rows into phases (and on 1×1 ones when our GEMM kernels run on OpenBLAS). Per call:
//   - The primitive is built once per (pass, sizes, stride, padding, dilation, groups, layouts,
//     bias) and cached (up to 1024 of them): building one JIT-compiles code and takes
//     milliseconds.
//   - Operands are described in the caller's layout (NCHW, or NHWC for channels-last tensors;
//     other strides are made contiguous first), the primitive chooses its own (`any`), and
//     reorders, also cached, convert into and out of it through per-thread scratch buffers that
//     are kept between calls (fresh buffers would fault in their pages on every call). The weights
//     are reordered on every call: they change after every optimizer step. The output gradient is
//     reordered once for the input- and weight-gradient calls that follow each other (see run).
//   - Threads: libdnnl is built on OpenMP, so it shares our OpenMP pool and thread count.
// f32 only (`supports` declines f64, which then runs the reference or our own kernels), and
// `supports` declines the shapes where our kernels measured faster (see onednn_wins); the test
// tests/ops/conv2d_onednn_test.cc runs the kernels on every case regardless.
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "framework/core/storage.h"
#include "framework/dispatch/registry.h"
#include "ops/common/cpu_gemm.h"
#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

enum class Pass { forward, backward_input, backward_weight };

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// Channels-last in (and not also plain contiguous, as size-1 dims allow): the rule the other CPU
// kernels use for their output layout.
bool is_channels_last(const Tensor& t) {
  return !t.is_contiguous() && t.is_contiguous(MemoryFormat::channels_last);
}
// The tensor dense in its own layout (a copy only for other strides).
Tensor dense(const Tensor& t) {
  return t.is_contiguous() || t.is_contiguous(MemoryFormat::channels_last) ? t : t.contiguous();
}

// Everything the primitive and its reorders depend on.
struct Key {
  Pass pass;
  std::array<int64_t, 16> sizes;  // N C H W O kH kW stride padding dilation groups
  bool x_channels_last;           // forward: input; backward_input: grad_output; weight: input
  bool g_channels_last;           // backward_weight: grad_output
  bool bias;
  auto operator<=>(const Key&) const = default;
};

// One operand: its layout in the caller's tensor, the layout the primitive wants, and the reorder
// between them (none when they agree).
struct Operand {
  int arg = 0;
  memory::desc user, inner;
  std::optional<dnnl::reorder> reorder;
};

struct Plan {
  Pass pass;
  dnnl::primitive primitive;
  std::array<Operand, 2> inputs;
  Operand output;
};

Operand operand(int arg, const memory::desc& user, const memory::desc& inner, bool is_output) {
  Operand op{arg, user, inner, std::nullopt};
  if (user != inner) {
    op.reorder =
        is_output ? dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), user))
                  : dnnl::reorder(dnnl::reorder::primitive_desc(engine(), user, engine(), inner));
  }
  return op;
}

Plan make_plan(const Key& k) {
  const auto& s = k.sizes;
  const int64_t N = s[0], C = s[1], H = s[2], W = s[3], O = s[4], kH = s[5], kW = s[6];
  const int64_t G = s[13];
  const ConvGeometry geo{{s[7], s[8]}, {s[9], s[10]}, {s[11], s[12]}, G};
  const memory::dims src_dims{N, C, H, W};
  const memory::dims dst_dims{N, O, geo.output_size(0, H, kH), geo.output_size(1, W, kW)};
  const memory::dims wei_dims =
      G == 1 ? memory::dims{O, C, kH, kW} : memory::dims{G, O / G, C / G, kH, kW};
  const Tag wei_tag = G == 1 ? Tag::oihw : Tag::goihw;
  const memory::dims strides{geo.stride[0], geo.stride[1]};
  const memory::dims dilates{geo.dilation[0] - 1, geo.dilation[1] - 1};  // oneDNN counts from 0
  const memory::dims pad{geo.padding[0], geo.padding[1]};
  const auto f32 = memory::data_type::f32;
  auto desc = [&](const memory::dims& dims, Tag tag) { return memory::desc(dims, f32, tag); };
  auto image_tag = [](bool cl) { return cl ? Tag::nhwc : Tag::nchw; };

  const memory::desc src_any = desc(src_dims, Tag::any), dst_any = desc(dst_dims, Tag::any);
  const memory::desc wei_any = desc(wei_dims, Tag::any), wei_user = desc(wei_dims, wei_tag);
  const auto algo = dnnl::algorithm::convolution_direct;
  const auto prop = dnnl::prop_kind::forward_training;
  if (k.pass == Pass::forward) {
    using Conv = dnnl::convolution_forward;
    const auto d =
        k.bias ? Conv::desc(prop, algo, src_any, wei_any, desc({O}, Tag::x), dst_any, strides,
                            dilates, pad, pad)
               : Conv::desc(prop, algo, src_any, wei_any, dst_any, strides, dilates, pad, pad);
    const Conv::primitive_desc pd(d, engine());
    const Tag img = image_tag(k.x_channels_last);
    return {k.pass,
            Conv(pd),
            {operand(DNNL_ARG_SRC, desc(src_dims, img), pd.src_desc(), false),
             operand(DNNL_ARG_WEIGHTS, wei_user, pd.weights_desc(), false)},
            operand(DNNL_ARG_DST, desc(dst_dims, img), pd.dst_desc(), true)};
  }
  const dnnl::convolution_forward::primitive_desc hint(
      dnnl::convolution_forward::desc(prop, algo, src_any, wei_any, dst_any, strides, dilates, pad,
                                      pad),
      engine());
  if (k.pass == Pass::backward_input) {
    using Conv = dnnl::convolution_backward_data;
    const Conv::primitive_desc pd(
        Conv::desc(algo, src_any, wei_any, dst_any, strides, dilates, pad, pad), engine(), hint);
    const Tag img = image_tag(k.x_channels_last);
    return {k.pass,
            Conv(pd),
            {operand(DNNL_ARG_DIFF_DST, desc(dst_dims, img), pd.diff_dst_desc(), false),
             operand(DNNL_ARG_WEIGHTS, wei_user, pd.weights_desc(), false)},
            operand(DNNL_ARG_DIFF_SRC, desc(src_dims, img), pd.diff_src_desc(), true)};
  }
  using Conv = dnnl::convolution_backward_weights;
  const Conv::primitive_desc pd(
      Conv::desc(algo, src_any, wei_any, dst_any, strides, dilates, pad, pad), engine(), hint);
  return {
      k.pass,
      Conv(pd),
      {operand(DNNL_ARG_DIFF_DST, desc(dst_dims, image_tag(k.g_channels_last)), pd.diff_dst_desc(),
               false),
       operand(DNNL_ARG_SRC, desc(src_dims, image_tag(k.x_channels_last)), pd.src_desc(), false)},
      operand(DNNL_ARG_DIFF_WEIGHTS, wei_user, pd.diff_weights_desc(), true)};
}

// The cached plan of `key`. The cache is emptied when it reaches kMaxPlans (inputs of ever new
// sizes, such as detection images, would otherwise grow it without bound); callers hold their
// plan through the shared pointer meanwhile.
std::shared_ptr<const Plan> plan_for(const Key& key) {
  constexpr size_t kMaxPlans = 1024;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const Plan>> plans;
  std::lock_guard lock(mutex);
  auto it = plans.find(key);
  if (it == plans.end()) {
    if (plans.size() >= kMaxPlans) plans.clear();
    it = plans.emplace(key, std::make_shared<const Plan>(make_plan(key))).first;
  }
  return it->second;
}

// What the first input's scratch buffer holds: the reordered copy of one tensor's data at one
// version. The storage is kept alive while it is held, so that its address cannot be reused by
// another tensor; a write through an op bumps its version.
struct Held {
  std::shared_ptr<Storage> storage;
  const void* data = nullptr;
  uint64_t version = 0;
  memory::desc user, inner;
  bool holds(const Tensor& t, const Operand& op) const {
    return storage && storage == t.storage() && data == t.raw_data() && version == t.version() &&
           user == op.user && inner == op.inner;
  }
};

// Per-thread buffers for the reordered operands, grown as needed and kept (fresh buffers would
// fault their pages in on every call).
struct Scratch {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::array<std::unique_ptr<void, Free>, 3> buffers;
  std::array<size_t, 3> sizes{};
  Held held;  // of buffer 0
  void* get(size_t slot, size_t bytes) {
    if (sizes[slot] < bytes) {
      const size_t rounded = (bytes + 4095) / 4096 * 4096;
      buffers[slot].reset(std::aligned_alloc(4096, rounded));
      OSPREY_CHECK(buffers[slot] != nullptr, "conv2d/cpu/onednn: out of memory ({} bytes)",
                   rounded);
      sizes[slot] = rounded;
    }
    return buffers[slot].get();
  }
};

// Runs the plan on the callers' tensors: inputs reordered into scratch where the primitive wants
// another layout, the primitive, then the output reordered back. The gradient of the output,
// reordered by an input-gradient call, is held for the weight-gradient call that conv2d's backward
// makes right after it on the same tensor (usually in the same layout), and released by any other
// call: a short window, as writes through raw pointers do not bump a tensor's version.
void run(const Plan& plan, const std::array<const Tensor*, 2>& inputs, const void* bias,
         void* output) {
  thread_local Scratch scratch;
  thread_local dnnl::stream stream(engine());
  std::unordered_map<int, memory> args;
  Held now;
  for (size_t i = 0; i < 2; ++i) {
    const Operand& op = plan.inputs[i];
    const Tensor& t = *inputs[i];
    memory user(op.user, engine(), t.raw_data());
    if (!op.reorder) {
      args.emplace(op.arg, user);
    } else if (i == 0 && plan.pass == Pass::backward_weight && scratch.held.holds(t, op)) {
      args.emplace(op.arg, memory(op.inner, engine(), scratch.buffers[i].get()));
    } else {
      if (i == 0) scratch.held = {};
      memory inner(op.inner, engine(), scratch.get(i, op.inner.get_size()));
      op.reorder->execute(stream, user, inner);
      args.emplace(op.arg, inner);
      if (i == 0 && plan.pass == Pass::backward_input)
        now = {t.storage(), t.raw_data(), t.version(), op.user, op.inner};
    }
  }
  if (bias) {
    const auto& d = plan.output.user.dims();
    args.emplace(DNNL_ARG_BIAS, memory(memory::desc({d[1]}, memory::data_type::f32, Tag::x),
                                       engine(), const_cast<void*>(bias)));
  }
  const Operand& out = plan.output;
  memory user_out(out.user, engine(), output);
  memory inner_out =
      out.reorder ? memory(out.inner, engine(), scratch.get(2, out.inner.get_size())) : user_out;
  args.emplace(out.arg, inner_out);
  plan.primitive.execute(stream, args);
  if (out.reorder) out.reorder->execute(stream, inner_out, user_out);
  stream.wait();
  scratch.held = std::move(now);
}

Key make_key(Pass pass, const KernelContext& ctx, const Shape& input, const Shape& weight,
             bool x_cl, bool g_cl, bool bias) {
  const ConvGeometry g = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  return {pass,
          {input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3], g.stride[0],
           g.stride[1], g.padding[0], g.padding[1], g.dilation[0], g.dilation[1], g.groups, 0, 0},
          x_cl,
          g_cl,
          bias};
}

// The output slot when it is dense in `format`, else a fresh tensor copied into it afterwards.
Tensor dense_target(const Tensor& out, MemoryFormat format) {
  return out.is_contiguous(format) ? out
                                   : Tensor::empty(out.shape(), out.dtype(), out.device(), format);
}

template <typename F>
void guarded(F&& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    OSPREY_THROW(internal, "oneDNN failed: {} (status {})", e.what(), int(e.status));
  }
}

void forward(KernelContext& ctx) {
  const Tensor x = dense(ctx.input(0));
  const Tensor w = ctx.input(1).contiguous();
  const Tensor bias =
      ctx.num_inputs() > 2 && ctx.input(2).defined() ? ctx.input(2).contiguous() : Tensor{};
  const ConvGeometry g = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  const ConvSizes z(x.shape(), w.shape(), g);
  const bool cl = is_channels_last(x);
  const MemoryFormat format = cl ? MemoryFormat::channels_last : MemoryFormat::contiguous;
  Tensor& out = ctx.output(0, {z.N, z.O, z.Ho, z.Wo}, x.dtype(), format);
  if (out.numel() == 0) return;
  const Tensor res = dense_target(out, format);
  guarded([&] {
    const auto plan =
        plan_for(make_key(Pass::forward, ctx, x.shape(), w.shape(), cl, false, bias.defined()));
    run(*plan, {&x, &w}, bias.defined() ? bias.raw_data() : nullptr, res.raw_data());
  });
  if (!res.is_same(out)) out.copy_(res);
}

void backward_input(KernelContext& ctx) {
  const Tensor grad = dense(ctx.input(0));
  const Tensor w = ctx.input(1).contiguous();
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const bool cl = is_channels_last(grad);
  const MemoryFormat format = cl ? MemoryFormat::channels_last : MemoryFormat::contiguous;
  Tensor& out = ctx.output(0, input_size, grad.dtype(), format);
  if (out.numel() == 0) return;
  const Tensor res = dense_target(out, format);
  guarded([&] {
    const auto plan =
        plan_for(make_key(Pass::backward_input, ctx, input_size, w.shape(), cl, false, false));
    run(*plan, {&grad, &w}, nullptr, res.raw_data());
  });
  if (!res.is_same(out)) out.copy_(res);
}

void backward_weight(KernelContext& ctx) {
  const Tensor grad = dense(ctx.input(0));
  const Tensor x = dense(ctx.input(1));
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  Tensor& out = ctx.output(0, weight_size, grad.dtype());
  if (out.numel() == 0) return;
  Tensor res = dense_target(out, MemoryFormat::contiguous);
  if (x.size(0) == 0) {  // an empty batch: oneDNN takes no zero-sized images
    res.zero_();
  } else {
    guarded([&] {
      const auto plan = plan_for(make_key(Pass::backward_weight, ctx, x.shape(), weight_size,
                                          is_channels_last(x), is_channels_last(grad), false));
      run(*plan, {&grad, &x}, nullptr, res.raw_data());
    });
  }
  if (!res.is_same(out)) out.copy_(res);
}

// Where oneDNN beat our kernels (build/bench/conv2d_bench --modes=fwd,bwi,bww, CPU seconds per
// FLOP on the shared 2-core Zen 4 machine, 2026-11-27): nearly everywhere in ResNet-18/50, by
// 1.3-3× on 1×1, strided and ≥ 128-channel convolutions. Ours stay: stride-1 convolutions with
// at most 64 input and output channels (ResNet's first stage: cpu/direct_avx512 and cpu/pointwise
// were level or up to 3× faster, the weight gradient most), input gradients onto fewer than 8
// channels (a 3-channel stem: cpu/direct_avx512 twice as fast) and weight gradients over at most
// 32 input channels (ResNet-20's strided and projection convolutions at batch 128: ours 1.5-10×
// faster; the stems level).
// With oneDNN's sgemm behind our GEMM kernels (ops/common/cpu_gemm.h) the 1×1 convolutions also
// go to them: one GEMM per image on NCHW as it is, where this kernel reorders into and out of its
// blocked layout, which costs about as much as a 1×1 convolution's arithmetic. On ResNet-50's 1×1
// shapes at batch 8 (same bench, idle, evening) cpu/pointwise (and cpu/batched_gemm for the
// strided ones) took 0.55-0.9× this kernel's time down to 14×14 outputs and 0.75-0.95× on every
// 7×7 weight gradient; on 7×7 forward and input gradients oneDNN kept a 5-35% lead.
struct ConvCall {
  Pass pass;
  Shape input_size, weight_size;  // N C H W and O C/G kH kW
};

bool onednn_wins(const KernelContext& ctx, const ConvCall& c) {
  const ConvGeometry g = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  const int64_t in_channels = c.input_size[1], out_channels = c.weight_size[0];
  if (g.stride[0] == 1 && g.stride[1] == 1 && in_channels <= 64 && out_channels <= 64) return false;
  if (c.pass == Pass::backward_input && in_channels / g.groups < 8) return false;
  if (c.pass == Pass::backward_weight && in_channels / g.groups <= 32) return false;
  const bool gemm_pointwise = c.weight_size[2] == 1 && c.weight_size[3] == 1 && g.groups == 1 &&
                              sgemm_backend() == SgemmBackend::onednn;
  if (!gemm_pointwise) return true;
  const int64_t out_pixels =
      g.output_size(0, c.input_size[2], 1) * g.output_size(1, c.input_size[3], 1);
  return !(c.pass == Pass::backward_weight || out_pixels >= 14 * 14);
}

bool f32_inputs(const KernelContext& ctx) {
  return inputs_have_dtype(ctx, {DType::f32});
}
bool forward_supported(const KernelContext& ctx) {
  const Shape& x = ctx.input(0).shape();
  const Shape& w = ctx.input(1).shape();
  return f32_inputs(ctx) && w.size() == 4 && x.size() == 4 &&
         onednn_wins(ctx, {Pass::forward, x, w});
}
bool backward_input_supported(const KernelContext& ctx) {
  const Shape input_size = ctx.attrs().get_ints("input_size");
  const Shape& w = ctx.input(1).shape();
  return f32_inputs(ctx) && input_size.size() == 4 && w.size() == 4 &&
         onednn_wins(ctx, {Pass::backward_input, input_size, w});
}
bool backward_weight_supported(const KernelContext& ctx) {
  const Shape weight_size = ctx.attrs().get_ints("weight_size");
  const Shape& x = ctx.input(1).shape();
  return f32_inputs(ctx) && weight_size.size() == 4 && x.size() == 4 &&
         onednn_wins(ctx, {Pass::backward_weight, x, weight_size});
}

const bool registered = [] {
  // Above cpu/pointwise (35) and cpu/direct_avx512 (30), which keep the shapes onednn_wins
  // declines.
  register_kernel("conv2d", DeviceType::cpu, "onednn", 40, forward, forward_supported,
                  "oneDNN convolution_forward (JIT, channel-blocked layout, reorders in and out "
                  "of NCHW/NHWC), cached primitives; f32, not stride-1 convs of <= 64 channels nor "
                  "1x1 convs onto >= 14x14 outputs when the sgemm is oneDNN's");
  register_kernel("conv2d_backward_input", DeviceType::cpu, "onednn", 40, backward_input,
                  backward_input_supported,
                  "oneDNN convolution_backward_data, cached primitives; f32, not stride-1 convs "
                  "of <= 64 channels, gradients onto < 8 channels nor 1x1 convs with >= 14x14 "
                  "outputs when the sgemm is oneDNN's");
  register_kernel("conv2d_backward_weight", DeviceType::cpu, "onednn", 40, backward_weight,
                  backward_weight_supported,
                  "oneDNN convolution_backward_weights, cached primitives; f32, not stride-1 "
                  "convs of <= 64 channels, over <= 32 input channels nor 1x1 convs when the "
                  "sgemm is oneDNN's");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
