// cuda/cudnn kernels of conv2d, conv2d_backward_input and conv2d_backward_weight through cuDNN's
// legacy convolution API (cudnnConvolutionForward / BackwardData / BackwardFilter), on the current
// stream. This is the kernel to use on a GPU: cuDNN picks among implicit GEMM, FFT and Winograd
// kernels (tensor cores for f16, and for f32 when TF32 is allowed) per shape.
//   - Layout: the image tensors run channels-last (NHWC, filters KRSC) when the kernel's image
//     input is channels-last, else NCHW; operands are made contiguous in that layout (a no-op for
//     the usual inputs) and a result whose caller-visible layout differs is copied once. f64 always
//     runs NCHW (cuDNN's double support is essentially NCHW-only), and so does an NHWC problem no
//     cuDNN algorithm runs (some dilated or grouped shapes).
//   - Algorithms: cudnnGet*_v7 heuristics by default (no device work, no allocation); with
//     OSPREY_CUDNN_BENCHMARK=1, cudnnFind* times the candidates once (it allocates its own scratch
//     memory outside the caching allocator). Candidates are tried in rank order until one runs
//     (heuristics may list algorithms the call then rejects as unsupported), and the one that ran
//     is cached per (op, device, dtype, layout, shapes, stride, padding, dilation, groups, TF32
//     switch), as only those decide it.
//   - Math: f32 uses TF32 tensor cores only when cuda::allow_tf32() (otherwise only FMA kernels are
//     accepted), f16 accumulates in f32 with tensor cores, f64 in f64.
//   - Workspace: a byte tensor from the caching allocator, freed to it after the call (stream
//     ordered, so no synchronisation).
//   - Empty batches need no cuDNN call (cuDNN rejects zero-sized dims): forward and
//     backward_input outputs are empty, backward_weight's is zero.
// bf16 and tensors beyond cuDNN's 32-bit sizes are declined in `supports`, so another kernel runs.
#include <array>
#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/conv2d/conv2d_geometry.h"

namespace osprey::ops {
namespace {

enum class Pass { forward, backward_input, backward_weight };

// RAII wrappers of the three descriptor kinds.
struct TensorDesc {
  cudnnTensorDescriptor_t desc = nullptr;
  TensorDesc() { OSPREY_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(desc); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};
struct FilterDesc {
  cudnnFilterDescriptor_t desc = nullptr;
  FilterDesc() { OSPREY_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc)); }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(desc); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};
struct ConvDesc {
  cudnnConvolutionDescriptor_t desc = nullptr;
  ConvDesc() { OSPREY_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc)); }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(desc); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

cudnnDataType_t cudnn_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return CUDNN_DATA_FLOAT;
    case DType::f64:
      return CUDNN_DATA_DOUBLE;
    case DType::f16:
      return CUDNN_DATA_HALF;
    default:
      throw_unsupported_dtype(dtype, "conv2d/cuda/cudnn");
  }
}

// Channels-last in (and not also plain contiguous, as size-1 dims allow): the rule the CPU
// kernels use for their output layout.
bool is_channels_last(const Tensor& t) {
  return t.is_contiguous(MemoryFormat::channels_last) && !t.is_contiguous();
}

int i32(int64_t v) {
  OSPREY_CHECK(v <= INT_MAX, "conv2d/cuda/cudnn: size {} exceeds cuDNN's 32-bit range", v);
  return static_cast<int>(v);
}

void set_tensor(const TensorDesc& d, const Shape& s, DType dtype, cudnnTensorFormat_t format) {
  OSPREY_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.desc, format, cudnn_type(dtype), i32(s[0]),
                                                i32(s[1]), i32(s[2]), i32(s[3])));
}

// Everything an algorithm choice depends on, flattened.
using AlgoKey = std::vector<int64_t>;

struct AlgoChoice {
  int algo;
  cudnnMathType_t math;
};

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
// nullopt: no cuDNN algorithm runs that problem (remembered too, so it is asked once).
std::map<AlgoKey, std::optional<AlgoChoice>>& algo_cache() {
  static std::map<AlgoKey, std::optional<AlgoChoice>> cache;
  return cache;
}

bool benchmark_mode() {
  static const bool on = [] {
    const char* v = std::getenv("OSPREY_CUDNN_BENCHMARK");
    return v != nullptr && std::string(v) == "1";
  }();
  return on;
}

// One convolution as cuDNN sees it: x (image input), w (filter), y (image output) descriptors
// and the convolution descriptor.
struct Problem {
  Pass pass;
  DType dtype;
  bool nhwc;
  Shape x, w, y;
  ConvGeometry geo;
  TensorDesc x_desc, y_desc;
  FilterDesc w_desc;
  ConvDesc conv_desc;
  cudnnMathType_t wanted_math = CUDNN_DEFAULT_MATH;
  mutable cudnnStatus_t last_status = CUDNN_STATUS_NOT_SUPPORTED;  // of the last failed attempt

  Problem(Pass p, DType dt, bool channels_last, Shape xs, Shape ws, Shape ys, const ConvGeometry& g)
      : pass(p), dtype(dt), nhwc(channels_last), x(xs), w(ws), y(ys), geo(g) {
    const cudnnTensorFormat_t format = nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    set_tensor(x_desc, x, dtype, format);
    set_tensor(y_desc, y, dtype, format);
    OSPREY_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_desc.desc, cudnn_type(dtype), format, i32(w[0]),
                                                  i32(w[1]), i32(w[2]), i32(w[3])));
    // f16 data accumulates in f32 (cuDNN's "pseudo half" configuration).
    const cudnnDataType_t compute = dtype == DType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    OSPREY_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv_desc.desc, i32(geo.padding[0]), i32(geo.padding[1]), i32(geo.stride[0]),
        i32(geo.stride[1]), i32(geo.dilation[0]), i32(geo.dilation[1]), CUDNN_CROSS_CORRELATION,
        compute));
    OSPREY_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv_desc.desc, i32(geo.groups)));
    if (dtype == DType::f16) {
      wanted_math = CUDNN_TENSOR_OP_MATH;
    } else if (dtype == DType::f32) {
      wanted_math = cuda::allow_tf32() ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    }
    OSPREY_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc.desc, wanted_math));
  }

  AlgoKey key() const {
    AlgoKey k{static_cast<int64_t>(pass),  cuda::current_device(),
              static_cast<int64_t>(dtype), nhwc,
              cuda::allow_tf32(),          geo.groups};
    for (const Shape* s : {&x, &w, &y}) k.insert(k.end(), s->begin(), s->end());
    for (int d = 0; d < 2; ++d) {
      k.push_back(geo.stride[d]);
      k.push_back(geo.padding[d]);
      k.push_back(geo.dilation[d]);
    }
    return k;
  }

  // A candidate that keeps to the math rule: f32 without TF32 stays off tensor cores.
  bool math_ok(cudnnMathType_t math) const {
    return !(dtype == DType::f32 && !cuda::allow_tf32() && math != CUDNN_FMA_MATH);
  }

  // cuDNN's ranked candidates (heuristics, or timings in benchmark mode) that report success:
  // first those that keep to the math rule, then the others forced to the wanted math type (a
  // heuristic's reported math type is advice; execution decides).
  template <typename Perf, typename Query>
  std::vector<AlgoChoice> rank(Query query) const {
    std::array<Perf, 16> perf{};
    int returned = 0;
    query(static_cast<int>(perf.size()), &returned, perf.data());
    std::vector<AlgoChoice> ranked, others;
    for (int i = 0; i < returned; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      if (math_ok(perf[i].mathType)) {
        ranked.push_back({static_cast<int>(perf[i].algo), perf[i].mathType});
      } else {
        others.push_back({static_cast<int>(perf[i].algo), wanted_math});
      }
    }
    ranked.insert(ranked.end(), others.begin(), others.end());
    return ranked;
  }

  std::vector<AlgoChoice> candidates(cudnnHandle_t handle) const {
    const bool bench = benchmark_mode();
    switch (pass) {
      case Pass::forward:
        return rank<cudnnConvolutionFwdAlgoPerf_t>([&](int n, int* got, auto* perf) {
          OSPREY_CUDNN_CHECK(bench ? cudnnFindConvolutionForwardAlgorithm(
                                         handle, x_desc.desc, w_desc.desc, conv_desc.desc,
                                         y_desc.desc, n, got, perf)
                                   : cudnnGetConvolutionForwardAlgorithm_v7(
                                         handle, x_desc.desc, w_desc.desc, conv_desc.desc,
                                         y_desc.desc, n, got, perf));
        });
      case Pass::backward_input:
        return rank<cudnnConvolutionBwdDataAlgoPerf_t>([&](int n, int* got, auto* perf) {
          OSPREY_CUDNN_CHECK(bench ? cudnnFindConvolutionBackwardDataAlgorithm(
                                         handle, w_desc.desc, y_desc.desc, conv_desc.desc,
                                         x_desc.desc, n, got, perf)
                                   : cudnnGetConvolutionBackwardDataAlgorithm_v7(
                                         handle, w_desc.desc, y_desc.desc, conv_desc.desc,
                                         x_desc.desc, n, got, perf));
        });
      case Pass::backward_weight:
        return rank<cudnnConvolutionBwdFilterAlgoPerf_t>([&](int n, int* got, auto* perf) {
          OSPREY_CUDNN_CHECK(bench ? cudnnFindConvolutionBackwardFilterAlgorithm(
                                         handle, x_desc.desc, y_desc.desc, conv_desc.desc,
                                         w_desc.desc, n, got, perf)
                                   : cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                         handle, x_desc.desc, y_desc.desc, conv_desc.desc,
                                         w_desc.desc, n, got, perf));
        });
    }
    OSPREY_THROW(internal, "conv2d/cuda/cudnn: unknown pass");
  }

  cudnnStatus_t workspace_bytes(cudnnHandle_t handle, int algo, size_t* bytes) const {
    switch (pass) {
      case Pass::forward:
        return cudnnGetConvolutionForwardWorkspaceSize(
            handle, x_desc.desc, w_desc.desc, conv_desc.desc, y_desc.desc,
            static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
      case Pass::backward_input:
        return cudnnGetConvolutionBackwardDataWorkspaceSize(
            handle, w_desc.desc, y_desc.desc, conv_desc.desc, x_desc.desc,
            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
      case Pass::backward_weight:
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(
            handle, x_desc.desc, y_desc.desc, conv_desc.desc, w_desc.desc,
            static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
    }
    return CUDNN_STATUS_BAD_PARAM;
  }

  // One attempt with `choice`: forward writes y from (a = x, b = w); backward_input writes x from
  // (a = dy, b = w); backward_weight writes w from (a = dy, b = x). cuDNN's status is returned
  // (it checks support before launching anything).
  cudnnStatus_t execute(cudnnHandle_t handle, const AlgoChoice& choice, const void* a,
                        const void* b, void* out, Device device) const {
    cudnnStatus_t status = cudnnSetConvolutionMathType(conv_desc.desc, choice.math);
    if (status != CUDNN_STATUS_SUCCESS) return status;
    size_t bytes = 0;
    status = workspace_bytes(handle, choice.algo, &bytes);
    if (status != CUDNN_STATUS_SUCCESS) return status;
    Tensor workspace;  // back to the caching allocator after the call, stream-ordered
    if (bytes > 0) workspace = Tensor::empty({static_cast<int64_t>(bytes)}, DType::u8, device);
    void* ws = bytes > 0 ? workspace.raw_data() : nullptr;
    const double one64 = 1.0, zero64 = 0.0;
    const float one32 = 1.0f, zero32 = 0.0f;
    const void* one = dtype == DType::f64 ? static_cast<const void*>(&one64) : &one32;
    const void* zero = dtype == DType::f64 ? static_cast<const void*>(&zero64) : &zero32;
    switch (pass) {
      case Pass::forward:
        return cudnnConvolutionForward(handle, one, x_desc.desc, a, w_desc.desc, b, conv_desc.desc,
                                       static_cast<cudnnConvolutionFwdAlgo_t>(choice.algo), ws,
                                       bytes, zero, y_desc.desc, out);
      case Pass::backward_input:
        return cudnnConvolutionBackwardData(handle, one, w_desc.desc, b, y_desc.desc, a,
                                            conv_desc.desc,
                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(choice.algo),
                                            ws, bytes, zero, x_desc.desc, out);
      case Pass::backward_weight:
        return cudnnConvolutionBackwardFilter(
            handle, one, x_desc.desc, b, y_desc.desc, a, conv_desc.desc,
            static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice.algo), ws, bytes, zero, w_desc.desc,
            out);
    }
    return CUDNN_STATUS_BAD_PARAM;
  }

  // Runs the pass (operands as for execute(), contiguous in this problem's layout) with the
  // cached algorithm, or tries the candidates in rank order and caches the first that runs.
  // Returns false, having written nothing, when none runs.
  bool run(const void* a, const void* b, void* out, Device device) const {
    cudnnHandle_t handle = cuda::cudnn_handle();
    const AlgoKey k = key();
    bool cached = false;
    std::optional<AlgoChoice> found;
    {
      std::lock_guard<std::mutex> lock(cache_mutex());
      auto it = algo_cache().find(k);
      if (it != algo_cache().end()) {
        cached = true;
        found = it->second;
      }
    }
    if (cached) {
      if (found) OSPREY_CUDNN_CHECK(execute(handle, *found, a, b, out, device));
      return found.has_value();
    }
    for (const AlgoChoice& choice : candidates(handle)) {
      const cudnnStatus_t status = execute(handle, choice, a, b, out, device);
      last_status = status;
      if (status == CUDNN_STATUS_SUCCESS) {
        found = choice;
        break;
      }
      // Unsupported combinations are expected (heuristics over-promise); anything else is real.
      const int category = CUDNN_STATUS_CATEGORY(static_cast<int>(status));
      if (category != CUDNN_STATUS_NOT_SUPPORTED && category != CUDNN_STATUS_BAD_PARAM) {
        OSPREY_CUDNN_CHECK(status);
      }
    }
    std::lock_guard<std::mutex> lock(cache_mutex());
    algo_cache().emplace(k, found);
    return found.has_value();
  }

  // y += bias (per output channel) in place.
  void add_bias(const Tensor& bias, void* y_data) const {
    TensorDesc b_desc;
    set_tensor(b_desc, {1, y[1], 1, 1}, dtype, CUDNN_TENSOR_NCHW);
    const double one64 = 1.0;
    const float one32 = 1.0f;
    const void* one = dtype == DType::f64 ? static_cast<const void*>(&one64) : &one32;
    OSPREY_CUDNN_CHECK(cudnnAddTensor(cuda::cudnn_handle(), one, b_desc.desc, bias.raw_data(), one,
                                      y_desc.desc, y_data));
  }
};

Shape output_shape(const Shape& x, const Shape& w, const ConvGeometry& geo) {
  return {x[0], w[0], geo.output_size(0, x[2], w[2]), geo.output_size(1, x[3], w[3])};
}

// The tensor a pass writes: the caller's output when it already has the layout cuDNN writes,
// else a scratch tensor copied into it afterwards (see finish()).
Tensor scratch_for(const Tensor& given, MemoryFormat format) {
  return given.is_contiguous(format)
             ? given
             : Tensor::empty(given.shape(), given.dtype(), given.device(), format);
}

void finish(const Tensor& given, const Tensor& result) {
  if (!result.is_same(given)) dispatch::call_out("copy", given, {result});
}

void check_on_cuda(const KernelContext& ctx) {
  for (const auto& t : ctx.inputs()) {
    if (t.defined()) {
      OSPREY_CHECK_KIND(device, t.device().is_cuda(), "{}: {} is not on a CUDA device",
                        ctx.op().schema.name, t.describe());
    }
  }
}

// Runs `pass` writing `given`: a and b are the pass's inputs as Problem::run takes them, x/w/y
// the convolution's shapes. Tries NHWC first when the image operand is channels-last (never for
// f64), then NCHW.
void run_pass(Pass pass, const ConvGeometry& geo, const Tensor& a_in, const Tensor& b_in,
              const Shape& x, const Shape& w, const Shape& y, const Tensor& given,
              bool channels_last, const Tensor& bias = {}) {
  const DType dtype = a_in.dtype();
  cudnnStatus_t status = CUDNN_STATUS_NOT_SUPPORTED;
  for (bool nhwc : {true, false}) {
    if (nhwc && (!channels_last || dtype == DType::f64)) continue;
    const MemoryFormat format = nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous;
    Tensor a = a_in.contiguous(format), b = b_in.contiguous(format);
    Tensor out = scratch_for(given, format);
    Problem p(pass, dtype, nhwc, x, w, y, geo);
    if (!p.run(a.raw_data(), b.raw_data(), out.raw_data(), a.device())) {
      status = p.last_status;
      continue;
    }
    if (bias.defined()) p.add_bias(bias.contiguous(), out.raw_data());
    finish(given, out);
    return;
  }
  OSPREY_THROW(cuda,
               "conv2d/cuda/cudnn: no cuDNN algorithm runs input {}, weight {}, output {} ({}); "
               "last status {}",
               shape_str(x), shape_str(w), shape_str(y), dtype_name(dtype),
               cudnnGetErrorString(status));
}

void forward_kernel(KernelContext& ctx) {
  check_on_cuda(ctx);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d");
  cuda::DeviceGuard guard(x.device().index);
  const Shape y = output_shape(x.shape(), w.shape(), geo);
  const bool nhwc = is_channels_last(x);
  const Tensor& given =
      ctx.output(0, y, x.dtype(), nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (given.numel() == 0) return;
  const Tensor bias = ctx.num_inputs() > 2 ? ctx.input(2) : Tensor();
  run_pass(Pass::forward, geo, x, w, x.shape(), w.shape(), y, given, nhwc, bias);
}

void backward_input_kernel(KernelContext& ctx) {
  check_on_cuda(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& g = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_input");
  const Shape x = ctx.attrs().get_ints("input_size");
  cuda::DeviceGuard guard(g.device().index);
  const bool nhwc = is_channels_last(g);
  const Tensor& given =
      ctx.output(0, x, g.dtype(), nhwc ? MemoryFormat::channels_last : MemoryFormat::contiguous);
  if (given.numel() == 0) return;
  run_pass(Pass::backward_input, geo, g, w, x, w.shape(), g.shape(), given, nhwc);
}

void backward_weight_kernel(KernelContext& ctx) {
  check_on_cuda(ctx);
  autograd::NoGradGuard no_grad;
  const Tensor& g = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const ConvGeometry geo = ConvGeometry::from_attrs(ctx.attrs(), "conv2d_backward_weight");
  const Shape w = ctx.attrs().get_ints("weight_size");
  cuda::DeviceGuard guard(g.device().index);
  Tensor& given = ctx.output(0, w, g.dtype());
  if (given.numel() == 0) return;
  if (g.numel() == 0) {  // an empty batch contributes nothing
    given.fill_(0.0);
    return;
  }
  run_pass(Pass::backward_weight, geo, g, x, x.shape(), w, g.shape(), given, is_channels_last(x));
}

// f32/f64/f16 on the GPU, sizes in cuDNN's int range, and no zero-channel operand (cuDNN rejects
// zero-sized dims; only the batch may be empty, which the kernels handle without cuDNN).
bool supported(const KernelContext& ctx) {
  if (!inputs_have_dtype(ctx, {DType::f32, DType::f64, DType::f16})) return false;
  for (const auto& t : ctx.inputs()) {
    if (!t.defined()) continue;
    if (!t.device().is_cuda() || t.numel() > INT_MAX) return false;
    for (int64_t d = 1; d < t.dim(); ++d) {
      if (t.size(d) == 0) return false;
    }
  }
  return true;
}

const bool registered = [] {
  register_kernel("conv2d", DeviceType::cuda, "cudnn", 10, forward_kernel, supported,
                  "cudnnConvolutionForward (+ cudnnAddTensor bias), NCHW or NHWC, cached "
                  "heuristic algorithm choice; TF32 only when allowed");
  register_kernel("conv2d_backward_input", DeviceType::cuda, "cudnn", 10, backward_input_kernel,
                  supported, "cudnnConvolutionBackwardData, NCHW or NHWC");
  register_kernel("conv2d_backward_weight", DeviceType::cuda, "cudnn", 10, backward_weight_kernel,
                  supported, "cudnnConvolutionBackwardFilter, NCHW or NHWC");
  return true;
}();

}  // namespace
}  // namespace osprey::ops
