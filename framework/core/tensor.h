// Tensor: a strided view of a Storage, with shape, strides, storage offset (in elements), dtype and
// device, plus the autograd state of that view. Copying a Tensor copies a handle; views share
// storage. Gradients are separate tensors (Tensor::grad), never mixed into the data.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "framework/core/device.h"
#include "framework/core/dtype.h"
#include "framework/core/error.h"
#include "framework/core/storage.h"

namespace osprey {

using Shape = std::vector<int64_t>;

namespace autograd {
class Node;
}

enum class MemoryFormat { contiguous, channels_last };

class Tensor;
using GradHook = std::function<Tensor(const Tensor&)>;  // returns a replacement grad or undefined

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;

  // Autograd state.
  bool requires_grad = false;  // meaningful for leaves; non-leaves require grad via grad_fn
  std::shared_ptr<autograd::Node> grad_fn;
  int output_nr = 0;  // which output of grad_fn this tensor is
  std::shared_ptr<TensorImpl> grad;
  std::weak_ptr<autograd::Node> grad_accumulator;  // leaves only, made on first use
  std::vector<GradHook> hooks;                     // leaves only; non-leaf hooks live on grad_fn
  bool retains_grad = false;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // An uninitialised tensor; contiguous, or channels-last for 4-d shapes when asked.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu(),
                      MemoryFormat format = MemoryFormat::contiguous);
  // A view over an existing storage.
  static Tensor from_storage(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                             int64_t offset, DType dtype);
  // Host values, copied into a new contiguous CPU tensor of dtype T, then moved to `device`.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());
  template <typename T>
  static Tensor scalar(T value, Device device = Device::cpu()) {
    return from_vector<T>({value}, {}, device);
  }

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // --- metadata ---
  const Shape& shape() const { return checked().shape; }
  const Shape& strides() const { return checked().strides; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;    // negative d counts from the end
  int64_t stride(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  int64_t offset() const { return checked().offset; }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  size_t element_size() const { return dtype_size(dtype()); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(); }
  bool is_contiguous(MemoryFormat format = MemoryFormat::contiguous) const;
  const std::shared_ptr<Storage>& storage() const { return checked().storage; }
  // Pointer to the first element of this view.
  void* raw_data() const;
  template <typename T>
  T* data() const;
  uint64_t version() const { return storage()->version(); }
  void bump_version() const { storage()->bump_version(); }
  // "f32[2, 3] cpu" — used in every error message about a tensor.
  std::string describe() const;

  // --- views (no copy; differentiable) ---
  Tensor view(const Shape& shape) const;     // needs compatible strides; -1 infers one size
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // drops dim
  Tensor expand(const Shape& shape) const;          // -1 keeps a size
  Tensor squeeze(int64_t dim) const;
  Tensor squeeze() const;  // all size-1 dims
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // --- copies (differentiable) ---
  Tensor contiguous(MemoryFormat format = MemoryFormat::contiguous) const;
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor to(Device device, DType dtype) const;
  Tensor cpu() const { return to(Device::cpu()); }
  // Copies src into this tensor in place (broadcasting src; converting dtype and device).
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }

  // --- element access for tests and small host work (copies from the device when needed) ---
  template <typename T>
  T item() const;
  template <typename T>
  T at(std::initializer_list<int64_t> index) const;
  template <typename T>
  std::vector<T> to_vector() const;                // row-major values of any layout
  std::string str(int64_t max_per_dim = 6) const;  // readable printing

  // --- autograd ---
  bool requires_grad() const;
  Tensor& set_requires_grad(bool requires_grad = true);
  bool is_leaf() const { return !checked().grad_fn; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked().grad_fn; }
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  void zero_grad() const { checked().grad.reset(); }
  // Non-leaves keep their gradient in .grad() after backward only when asked.
  void retain_grad() const;
  // Runs backward from this tensor; `gradient` defaults to ones for a single-element tensor.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // A tensor sharing data with this one but outside the graph.
  Tensor detach() const;
  // Called with the gradient flowing into this tensor during backward; may return a replacement.
  void register_hook(GradHook hook) const;

 private:
  TensorImpl& checked() const {
    if (!impl_) OSPREY_THROW(value, "operation on an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

Shape contiguous_strides(const Shape& shape);
Shape channels_last_strides(const Shape& shape);  // 4-d (N, C, H, W) stored as N, H, W, C
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3]"
// Normalises a possibly negative dim against rank `ndim`, with an error naming `what`.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* what = "dim");

}  // namespace osprey
