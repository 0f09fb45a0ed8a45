// The matmul-family shape rule and the strided matrix views the CPU kernels read (see gemm_plan.h).
#include "ops/matmul/gemm_plan.h"

#include "ops/common/op_helpers.h"
#include "ops/copy/copy.h"

namespace osprey::ops {

namespace {

Shape batch_dims(const Tensor& t) {
  if (t.dim() <= 2) return {};
  return Shape(t.shape().begin(), t.shape().end() - 2);
}

void run_cpu_gemm(KernelContext& ctx, CpuGemmFn gemm, const Tensor& a, const Tensor& b,
                  const Tensor& bias, const char* op) {
  GemmPlan plan = plan_matmul(a, b, op);
  const Tensor& given = ctx.output(0, plan.out_shape, a.dtype());
  // The backends write a contiguous result; a strided out= gets a copy of it.
  Tensor out = given.is_contiguous() ? given : Tensor::empty(given.shape(), given.dtype());
  gemm(plan, a, b, bias, out, op);
  if (!out.is_same(given)) cpu_convert_copy(given, out);
}

}  // namespace

GemmPlan plan_matmul(const Tensor& a, const Tensor& b, const char* op) {
  OSPREY_CHECK_KIND(shape, a.dim() >= 1 && b.dim() >= 1,
                    "{}: both operands need at least one dim, got input {} and other {}", op,
                    a.describe(), b.describe());
  GemmPlan plan;
  plan.m = a.dim() == 1 ? 1 : a.size(-2);
  int64_t ka = a.size(-1);
  int64_t kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  plan.n = b.dim() == 1 ? 1 : b.size(-1);
  OSPREY_CHECK_KIND(shape, ka == kb,
                    "{}: input {} and other {} cannot be multiplied (contracted sizes {} and {} "
                    "differ)",
                    op, a.describe(), b.describe(), ka, kb);
  plan.k = ka;
  plan.batch = broadcast_shapes(batch_dims(a), batch_dims(b), op);
  plan.out_shape = plan.batch;
  if (a.dim() > 1) plan.out_shape.push_back(plan.m);
  if (b.dim() > 1) plan.out_shape.push_back(plan.n);
  return plan;
}

MatrixView matrix_view(const Tensor& t, const GemmPlan& plan, bool is_left) {
  MatrixView v;
  if (t.dim() == 1) {
    // A row vector on the left, a column vector on the right; the unit dim's stride is unused.
    v.rows = is_left ? 1 : t.size(0);
    v.cols = is_left ? t.size(0) : 1;
    v.row_stride = is_left ? 0 : t.stride(0);
    v.col_stride = is_left ? t.stride(0) : 0;
  } else {
    v.rows = t.size(-2);
    v.cols = t.size(-1);
    v.row_stride = t.stride(-2);
    v.col_stride = t.stride(-1);
  }
  // Batch strides aligned to plan.batch from the right; broadcast dims read with stride 0.
  const int64_t nb = static_cast<int64_t>(plan.batch.size());
  const int64_t tb = std::max<int64_t>(t.dim() - 2, 0);
  Shape strides(nb, 0);
  for (int64_t d = 0; d < tb; ++d) {
    if (t.size(d) != 1) strides[nb - tb + d] = t.stride(d);
  }
  const int64_t count = plan.batch_count();
  v.offsets.assign(count, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, offset = 0;
    for (int64_t d = nb - 1; d >= 0; --d) {
      offset += (rest % plan.batch[d]) * strides[d];
      rest /= plan.batch[d];
    }
    v.offsets[i] = offset;
  }
  return v;
}

Tensor weight_transposed(const Tensor& weight) {
  return Tensor::from_storage(weight.storage(), {weight.size(1), weight.size(0)},
                              {weight.stride(1), weight.stride(0)}, weight.offset(),
                              weight.dtype());
}

void register_cpu_gemm_kernels(const char* impl, int priority, CpuGemmFn gemm,
                               dispatch::SupportsFn supports, const char* doc) {
  register_kernel(
      "matmul", DeviceType::cpu, impl, priority,
      [gemm](KernelContext& ctx) {
        run_cpu_gemm(ctx, gemm, ctx.input(0), ctx.input(1), Tensor(), "matmul");
      },
      supports, doc);
  register_kernel(
      "bmm", DeviceType::cpu, impl, priority,
      [gemm](KernelContext& ctx) {
        run_cpu_gemm(ctx, gemm, ctx.input(0), ctx.input(1), Tensor(), "bmm");
      },
      supports, doc);
  register_kernel(
      "linear", DeviceType::cpu, impl, priority,
      [gemm](KernelContext& ctx) {
        run_cpu_gemm(ctx, gemm, ctx.input(0), weight_transposed(ctx.input(1)), ctx.input(2),
                     "linear");
      },
      supports, doc);
}

}  // namespace osprey::ops
