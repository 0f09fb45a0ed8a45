// cuda/multi_tensor kernels of sgd_update and adamw_update: the fused update of a whole parameter
// list. The host writes a table (one entry per tensor: pointers, size, per-parameter scalars) and
// a chunk list (tensor, first element; kChunk elements each) into one device buffer, and one
// launch runs one block per chunk. Against one element-wise launch per op per tensor (a ResNet has
// ~300 parameters, each needing several ops) this removes thousands of launches per step and reads
// and writes each element once. Mixed f32/f64 lists take one launch per dtype.
#include <cmath>
#include <cstring>

#include "framework/cuda/check.h"
#include "framework/cuda/context.h"
#include "framework/dispatch/registry.h"
#include "ops/common/op_helpers.h"
#include "ops/optim_update/optim_update_util.h"

namespace osprey::ops {
namespace {

constexpr int64_t kChunk = 65536;
constexpr int kThreads = 512;

struct Chunk {
  int64_t tensor;
  int64_t start;
};

template <typename T>
struct SgdEntry {
  T* p;
  const T* g;
  T* b;  // null without momentum
  int64_t numel;
  T lr;
  T wd;
  int new_buffer;
};

template <typename T>
struct AdamWEntry {
  T* p;
  const T* g;
  T* m;
  T* v;
  int64_t numel;
  T decay;  // 1 - lr * weight_decay
  T step_size;
  T bias2_sqrt;
};

template <typename T>
__global__ void sgd_multi_tensor_kernel(const SgdEntry<T>* tensors, const Chunk* chunks, T momentum,
                                        T dampening, bool nesterov) {
  const Chunk c = chunks[blockIdx.x];
  const SgdEntry<T> e = tensors[c.tensor];
  const int64_t end = c.start + kChunk < e.numel ? c.start + kChunk : e.numel;
  for (int64_t k = c.start + threadIdx.x; k < end; k += blockDim.x) {
    T d = e.g[k];
    const T p = e.p[k];
    if (e.wd != T(0)) d = d + e.wd * p;
    if (e.b) {
      const T b = e.new_buffer ? d : momentum * e.b[k] + (T(1) - dampening) * d;
      e.b[k] = b;
      d = nesterov ? d + momentum * b : b;
    }
    e.p[k] = p - e.lr * d;
  }
}

template <typename T>
__global__ void adamw_multi_tensor_kernel(const AdamWEntry<T>* tensors, const Chunk* chunks,
                                          T one_minus_beta1, T beta1_lerp, T beta2,
                                          T one_minus_beta2, T eps) {
  const Chunk c = chunks[blockIdx.x];
  const AdamWEntry<T> e = tensors[c.tensor];
  const int64_t end = c.start + kChunk < e.numel ? c.start + kChunk : e.numel;
  for (int64_t k = c.start + threadIdx.x; k < end; k += blockDim.x) {
    const T g = e.g[k];
    T p = e.p[k] * e.decay;
    const T m0 = e.m[k];
    const T m =
        one_minus_beta1 < T(0.5) ? m0 + one_minus_beta1 * (g - m0) : g - (g - m0) * beta1_lerp;
    const T v = e.v[k] * beta2 + one_minus_beta2 * g * g;
    const T denom = sqrt(v) / e.bias2_sqrt + eps;
    e.m[k] = m;
    e.v[k] = v;
    e.p[k] = p - e.step_size * m / denom;
  }
}

// Copies the tensor table and the chunk list into one device buffer (kept alive by the returned
// tensor, whose memory the stream-ordered allocator reuses only after the launch) and returns it
// with the device addresses of both parts. Empty tensors get no chunk.
template <typename Entry>
struct DeviceTable {
  Tensor buffer;
  const Entry* entries = nullptr;
  const Chunk* chunks = nullptr;
  int64_t num_chunks = 0;
};

template <typename Entry>
DeviceTable<Entry> upload_table(const std::vector<Entry>& entries, Device device,
                                cudaStream_t stream) {
  std::vector<Chunk> chunks;
  for (size_t t = 0; t < entries.size(); ++t) {
    for (int64_t start = 0; start < entries[t].numel; start += kChunk) {
      chunks.push_back({static_cast<int64_t>(t), start});
    }
  }
  DeviceTable<Entry> table;
  table.num_chunks = static_cast<int64_t>(chunks.size());
  if (chunks.empty()) return table;
  const size_t entry_bytes = (entries.size() * sizeof(Entry) + 15) / 16 * 16;
  const size_t total = entry_bytes + chunks.size() * sizeof(Chunk);
  std::vector<unsigned char> host(total);
  std::memcpy(host.data(), entries.data(), entries.size() * sizeof(Entry));
  std::memcpy(host.data() + entry_bytes, chunks.data(), chunks.size() * sizeof(Chunk));
  table.buffer = Tensor::empty({static_cast<int64_t>(total)}, DType::u8, device);
  auto* base = static_cast<unsigned char*>(table.buffer.raw_data());
  // From pageable memory the copy is staged before the call returns, so `host` may go.
  OSPREY_CUDA_CHECK(cudaMemcpyAsync(base, host.data(), total, cudaMemcpyHostToDevice, stream));
  table.entries = reinterpret_cast<const Entry*>(base);
  table.chunks = reinterpret_cast<const Chunk*>(base + entry_bytes);
  return table;
}

// Copies the operands that flat_operands had to copy back into the parameters and state, after
// the launch that updated them (same stream, so ordered without a sync).
void write_back_all(const std::vector<std::vector<Tensor>>& tensors,
                    const std::vector<std::vector<Tensor>>& ops) {
  for (size_t k = 0; k < tensors.size(); ++k) write_back(tensors[k], ops[k], 1);
}

// The parameter indices of each dtype present (f32 first), so each launch is of one type.
std::vector<std::vector<int>> indices_by_dtype(const KernelContext& ctx, int n) {
  std::vector<std::vector<int>> groups(2);
  for (int i = 0; i < n; ++i) groups[ctx.input(i).dtype() == DType::f32 ? 0 : 1].push_back(i);
  return groups;
}

void sgd_update_multi_tensor(KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const auto lr = a.get_floats("lr");
  const auto wd = a.get_floats("weight_decay");
  const auto new_buffer = a.get_ints("new_buffer");
  const double momentum = a.get_float("momentum");
  const int roles = momentum != 0.0 ? 3 : 2;
  const auto n = static_cast<int>(lr.size());
  cuda::DeviceGuard guard(ctx.device().index);
  cudaStream_t stream = cuda::current_stream();
  for (const auto& indices : indices_by_dtype(ctx, n)) {
    if (indices.empty()) continue;
    OSPREY_DISPATCH_FLOAT(ctx.input(indices[0]).dtype(), "sgd_update", [&]<typename T>() {
      std::vector<SgdEntry<T>> entries;
      std::vector<std::vector<Tensor>> tensors, ops;
      for (int i : indices) {
        tensors.push_back(parameter_tensors(ctx, i, roles));
        ops.push_back(flat_operands(tensors.back()));
        const auto& o = ops.back();
        entries.push_back({o[0].data<T>(), o[1].data<T>(), roles == 3 ? o[2].data<T>() : nullptr,
                           o[0].numel(), static_cast<T>(lr[i]), static_cast<T>(wd[i]),
                           !new_buffer.empty() && new_buffer[i] != 0 ? 1 : 0});
      }
      auto table = upload_table(entries, ctx.device(), stream);
      if (table.num_chunks == 0) return;
      sgd_multi_tensor_kernel<T><<<static_cast<unsigned>(table.num_chunks), kThreads, 0, stream>>>(
          table.entries, table.chunks, static_cast<T>(momentum),
          static_cast<T>(a.get_float("dampening")), a.get_bool("nesterov"));
      OSPREY_CUDA_LAUNCH_CHECK();
      write_back_all(tensors, ops);
    });
  }
  bump_updated_versions(ctx, roles, 1);
}

void adamw_update_multi_tensor(KernelContext& ctx) {
  const Attrs& a = ctx.attrs();
  const auto lr = a.get_floats("lr");
  const auto wd = a.get_floats("weight_decay");
  const auto step = a.get_ints("step");
  const double beta1 = a.get_float("beta1"), beta2 = a.get_float("beta2");
  const auto n = static_cast<int>(lr.size());
  cuda::DeviceGuard guard(ctx.device().index);
  cudaStream_t stream = cuda::current_stream();
  for (const auto& indices : indices_by_dtype(ctx, n)) {
    if (indices.empty()) continue;
    OSPREY_DISPATCH_FLOAT(ctx.input(indices[0]).dtype(), "adamw_update", [&]<typename T>() {
      std::vector<AdamWEntry<T>> entries;
      std::vector<std::vector<Tensor>> tensors, ops;
      for (int i : indices) {
        const double t = static_cast<double>(step[i]);
        tensors.push_back(parameter_tensors(ctx, i, 4));
        ops.push_back(flat_operands(tensors.back()));
        const auto& o = ops.back();
        entries.push_back({o[0].data<T>(), o[1].data<T>(), o[2].data<T>(), o[3].data<T>(),
                           o[0].numel(), static_cast<T>(1.0 - lr[i] * wd[i]),
                           static_cast<T>(lr[i] / (1.0 - std::pow(beta1, t))),
                           static_cast<T>(std::sqrt(1.0 - std::pow(beta2, t)))});
      }
      auto table = upload_table(entries, ctx.device(), stream);
      if (table.num_chunks == 0) return;
      const T w = static_cast<T>(1.0 - beta1);
      adamw_multi_tensor_kernel<T>
          <<<static_cast<unsigned>(table.num_chunks), kThreads, 0, stream>>>(
              table.entries, table.chunks, w, T(1) - w, static_cast<T>(beta2),
              static_cast<T>(1.0 - beta2), static_cast<T>(a.get_float("eps")));
      OSPREY_CUDA_LAUNCH_CHECK();
      write_back_all(tensors, ops);
    });
  }
  bump_updated_versions(ctx, 4, 1);
}

const bool registered = [] {
  const char* doc =
      "one launch over a table of all tensors in 64K-element chunks (one block per chunk)";
  register_kernel("sgd_update", DeviceType::cuda, "multi_tensor", 0, sgd_update_multi_tensor, {},
                  doc);
  register_kernel("adamw_update", DeviceType::cuda, "multi_tensor", 0, adamw_update_multi_tensor,
                  {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
