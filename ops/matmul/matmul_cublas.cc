// cuda/cublas kernels of matmul, bmm and linear: cublasGemmEx for one product,
// cublasGemmStridedBatchedEx for a batch, on the current stream. Operands stored row-major or
// column-major in their last two dims (a transpose() of a contiguous tensor, linear's weight) go
// to cuBLAS as they are with the matching trans flag; a batch must be evenly strided (a broadcast
// operand has stride 0); anything else is copied contiguous first. When the right operand is one
// matrix for the whole batch and the left batch is evenly laid out rows, the batch folds into a
// single [batch * m, k] product (linear layers). f32 uses TF32 tensor cores only when
// cuda::allow_tf32(); f16/bf16 accumulate in f32; f64 in f64. Row-major C = A B is computed as the
// column-major C^T = B^T A^T.
#include <climits>

#include "framework/autograd/grad_mode.h"
#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/matmul/gemm_plan.h"

namespace osprey::ops {
namespace {

// One operand as cuBLAS reads it: a batch of rows x cols matrices.
struct Operand {
  Tensor tensor;  // what the pointers refer to
  int64_t rows = 0, cols = 0;
  bool transposed = false;  // stored column-major
  int64_t ld = 1;
  int64_t batch_stride = 0;  // elements between batch entries (0: shared)
};

// Strides of `t` (rank >= 2) expanded to `batch` + its last two dims, or nothing when a batch
// entry cannot be reached with one stride.
bool even_batch(const Tensor& t, const Shape& batch, int64_t* stride) {
  Shape full = batch;
  full.push_back(t.size(-2));
  full.push_back(t.size(-1));
  Shape strides = broadcast_strides(t, full);
  // Walk the batch dims from the innermost: each must continue the previous one.
  int64_t expect = -1;
  *stride = 0;
  for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
    if (batch[d] == 1) continue;
    if (expect < 0) {
      *stride = strides[d];
    } else if (strides[d] != expect) {
      return false;
    }
    expect = strides[d] * batch[d];
    if (strides[d] == 0) expect = 0;
  }
  return true;
}

Operand make_operand(Tensor t, const Shape& batch) {
  Operand op;
  for (int attempt = 0; attempt < 2; ++attempt) {
    op.tensor = t;
    op.rows = t.size(-2);
    op.cols = t.size(-1);
    int64_t rs = t.stride(-2), cs = t.stride(-1);
    bool layout_ok = false;
    if ((op.cols <= 1 || cs == 1) && (op.rows <= 1 || rs >= std::max<int64_t>(1, op.cols))) {
      op.transposed = false;
      op.ld = op.rows <= 1 ? std::max<int64_t>(1, op.cols) : rs;
      layout_ok = true;
    } else if ((op.rows <= 1 || rs == 1) && (op.cols <= 1 || cs >= std::max<int64_t>(1, op.rows))) {
      op.transposed = true;
      op.ld = op.cols <= 1 ? std::max<int64_t>(1, op.rows) : cs;
      layout_ok = true;
    }
    if (layout_ok && even_batch(t, batch, &op.batch_stride)) return op;
    Shape full = batch;
    full.push_back(op.rows);
    full.push_back(op.cols);
    t = t.expand(full).contiguous();
  }
  OSPREY_THROW(internal, "matmul/cuda/cublas: no cuBLAS layout for {}", t.describe());
}

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return CUDA_R_32F;
    case DType::f64:
      return CUDA_R_64F;
    case DType::f16:
      return CUDA_R_16F;
    case DType::bf16:
      return CUDA_R_16BF;
    default:
      throw_unsupported_dtype(dtype, "matmul/cuda/cublas");
  }
}

// C[count][m, n] (contiguous, row-major) = A[m, k] B[k, n] (+ C when beta = 1).
void gemm(const Operand& a, const Operand& b, Tensor& c, int64_t count, int64_t m, int64_t n,
          int64_t k, bool accumulate) {
  DType dtype = c.dtype();
  cublasHandle_t handle = cuda::cublas_handle();
  cublasComputeType_t compute = dtype == DType::f64 ? CUBLAS_COMPUTE_64F
                                : dtype == DType::f32 && cuda::allow_tf32()
                                    ? CUBLAS_COMPUTE_32F_FAST_TF32
                                    : CUBLAS_COMPUTE_32F;
  double alpha64 = 1.0, beta64 = accumulate ? 1.0 : 0.0;
  float alpha32 = 1.0f, beta32 = accumulate ? 1.0f : 0.0f;
  const void* alpha = dtype == DType::f64 ? static_cast<const void*>(&alpha64) : &alpha32;
  const void* beta = dtype == DType::f64 ? static_cast<const void*>(&beta64) : &beta32;
  cudaDataType_t type = cuda_type(dtype);
  // Column-major: C^T (n x m) = op(B)^T-view (n x k) * op(A)^T-view (k x m).
  cublasOperation_t tb = b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t ta = a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  auto i32 = [](int64_t v) {
    OSPREY_CHECK(v <= INT_MAX, "matmul/cuda/cublas: size {} exceeds cuBLAS's 32-bit range", v);
    return static_cast<int>(v);
  };
  const char* pa = static_cast<const char*>(a.tensor.raw_data());
  const char* pb = static_cast<const char*>(b.tensor.raw_data());
  if (count == 1) {
    OSPREY_CUBLAS_CHECK(cublasGemmEx(handle, tb, ta, i32(n), i32(m), i32(k), alpha, pb, type,
                                     i32(b.ld), pa, type, i32(a.ld), beta, c.raw_data(), type,
                                     i32(n), compute, CUBLAS_GEMM_DEFAULT));
  } else {
    OSPREY_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        handle, tb, ta, i32(n), i32(m), i32(k), alpha, pb, type, i32(b.ld), b.batch_stride, pa,
        type, i32(a.ld), a.batch_stride, beta, c.raw_data(), type, i32(n), m * n, i32(count),
        compute, CUBLAS_GEMM_DEFAULT));
  }
  OSPREY_CUDA_LAUNCH_CHECK();
}

// out = a @ b (+ bias): a is [..., m, k] or [k], b is [..., k, n] or [k] (matmul rules).
void run(KernelContext& ctx, Tensor a, Tensor b, const Tensor& bias) {
  for (const auto& t : ctx.inputs()) {
    if (t.defined()) {
      OSPREY_CHECK_KIND(device, t.device().is_cuda(), "{} is not on a CUDA device", t.describe());
    }
  }
  cuda::DeviceGuard guard(a.device().index);
  autograd::NoGradGuard no_grad;  // layout copies made here are not part of the graph
  const GemmPlan plan = plan_matmul(a, b, ctx.op().schema.name.c_str());
  const int64_t m = plan.m, k = plan.k, n = plan.n;
  const Shape& batch = plan.batch;
  const Shape& out_shape = plan.out_shape;
  // 1-d operands as a [1, k] row and a [k, 1] column for cuBLAS.
  if (a.dim() == 1)
    a = Tensor::from_storage(a.storage(), {1, a.size(0)}, {0, a.stride(0)}, a.offset(), a.dtype());
  if (b.dim() == 1)
    b = Tensor::from_storage(b.storage(), {b.size(0), 1}, {b.stride(0), 0}, b.offset(), b.dtype());
  const Tensor& given = ctx.output(0, out_shape, a.dtype());
  Tensor out = given.is_contiguous() ? given : Tensor::empty(out_shape, a.dtype(), a.device());
  const int64_t count = shape_numel(batch);
  if (count * m * n > 0) {
    cudaStream_t stream = cuda::current_stream();
    if (bias.defined()) {
      Tensor rows =
          Tensor::from_storage(out.storage(), {count * m, n}, {n, 1}, out.offset(), out.dtype());
      dispatch::call_out("copy", rows, {bias});
    } else if (k == 0) {
      OSPREY_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes(), stream));
    }
    if (k > 0) {
      Operand oa = make_operand(a, batch), ob = make_operand(b, batch);
      bool accumulate = bias.defined();
      if (count > 1 && ob.batch_stride == 0 && !oa.transposed && oa.batch_stride == m * oa.ld) {
        oa.rows = count * m;  // the batch folds into rows
        gemm(oa, ob, out, 1, count * m, n, k, accumulate);
      } else {
        gemm(oa, ob, out, count, m, n, k, accumulate);
      }
    }
  }
  if (!out.is_same(given)) dispatch::call_out("copy", given, {out});
}

void matmul_kernel(KernelContext& ctx) {
  run(ctx, ctx.input(0), ctx.input(1), Tensor());
}
void bmm_kernel(KernelContext& ctx) {
  run(ctx, ctx.input(0), ctx.input(1), Tensor());
}
void linear_kernel(KernelContext& ctx) {
  run(ctx, ctx.input(0), weight_transposed(ctx.input(1)), ctx.input(2));
}

bool supported(const KernelContext& ctx) {
  return inputs_have_dtype(ctx, {DType::f32, DType::f64, DType::f16, DType::bf16});
}

const bool registered = [] {
  const char* doc =
      "cublasGemmEx / GemmStridedBatchedEx with trans flags for transposed layouts, batch folded "
      "into rows for a shared right operand; TF32 for f32 only when allowed";
  register_kernel("matmul", DeviceType::cuda, "cublas", 10, matmul_kernel, supported, doc);
  register_kernel("bmm", DeviceType::cuda, "cublas", 10, bmm_kernel, supported, doc);
  register_kernel("linear", DeviceType::cuda, "cublas", 10, linear_kernel, supported, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
