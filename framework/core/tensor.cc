#include "framework/core/tensor.h"

#include <fmt/ranges.h>

#include "framework/autograd/engine.h"
#include "framework/autograd/node.h"
#include "framework/dispatch/registry.h"

namespace osprey {

using dispatch::Attrs;
using dispatch::call1;

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return strides;
}

Shape channels_last_strides(const Shape& shape) {
  OSPREY_CHECK_KIND(shape, shape.size() == 4, "channels-last needs a 4-d shape, got {}",
                    shape_str(shape));
  int64_t c = std::max<int64_t>(shape[1], 1), h = std::max<int64_t>(shape[2], 1),
          w = std::max<int64_t>(shape[3], 1);
  return {h * w * c, 1, w * c, c};
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

std::string shape_str(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* what) {
  int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi) {
    OSPREY_THROW(value, "{} {} is out of range for a tensor of rank {}", what, dim, ndim);
  }
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, MemoryFormat format) {
  for (auto s : shape) {
    OSPREY_CHECK_KIND(shape, s >= 0, "negative size in shape {}", shape_str(shape));
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = format == MemoryFormat::channels_last ? channels_last_strides(shape)
                                                        : contiguous_strides(shape);
  impl->dtype = dtype;
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return Tensor(std::move(impl));
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                            int64_t offset, DType dtype) {
  OSPREY_CHECK_KIND(shape, shape.size() == strides.size(), "shape {} and strides {} differ in rank",
                    shape_str(shape), shape_str(strides));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  OSPREY_CHECK_KIND(shape, shape_numel(shape) == static_cast<int64_t>(values.size()),
                    "from_vector: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>, Device::cpu());
  T* dst = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) dst[i] = values[i];
  return device.is_cpu() ? t : t.to(device);
}

int64_t Tensor::size(int64_t d) const {
  return shape()[wrap_dim(d, dim())];
}
int64_t Tensor::stride(int64_t d) const {
  return strides()[wrap_dim(d, dim())];
}
int64_t Tensor::numel() const {
  return shape_numel(shape());
}

bool Tensor::is_contiguous(MemoryFormat format) const {
  const auto& sh = shape();
  const auto& st = strides();
  Shape expected;
  if (format == MemoryFormat::channels_last) {
    if (sh.size() != 4) return false;
    expected = channels_last_strides(sh);
  } else {
    expected = contiguous_strides(sh);
  }
  for (size_t d = 0; d < sh.size(); ++d) {
    if (sh[d] != 1 && st[d] != expected[d]) return false;
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) + offset() * static_cast<int64_t>(element_size());
}

template <typename T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>) {
    OSPREY_THROW(dtype, "data<{}>() on a tensor {}", dtype_name(dtype_of<T>), describe());
  }
  return static_cast<T*>(raw_data());
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return fmt::format("{}{} {}", dtype_name(dtype()), shape_str(shape()), device().str());
}

// --- views ---

Tensor Tensor::view(const Shape& shape) const {
  return call1("view", {*this}, Attrs{{"shape", shape}});
}

Tensor Tensor::reshape(const Shape& shape) const {
  return call1("reshape", {*this}, Attrs{{"shape", shape}});
}

Tensor Tensor::permute(const Shape& dims) const {
  return call1("permute", {*this}, Attrs{{"dims", dims}});
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  Shape dims(dim());
  for (int64_t d = 0; d < dim(); ++d) dims[d] = d;
  std::swap(dims[wrap_dim(dim0, dim())], dims[wrap_dim(dim1, dim())]);
  return permute(dims);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  return call1("slice", {*this}, Attrs{{"dim", d}, {"start", start}, {"end", end}, {"step", step}});
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  int64_t wd = wrap_dim(d, dim());
  OSPREY_CHECK(start >= 0 && length >= 0 && start + length <= size(wd),
               "narrow: [{}, {}) is outside dim {} of size {}", start, start + length, wd,
               size(wd));
  return slice(wd, start, start + length, 1);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  int64_t wd = wrap_dim(d, dim());
  int64_t n = size(wd);
  OSPREY_CHECK(index >= -n && index < n, "select: index {} is out of range for dim {} of size {}",
               index, wd, n);
  if (index < 0) index += n;
  return slice(wd, index, index + 1, 1).squeeze(wd);
}

Tensor Tensor::expand(const Shape& shape) const {
  return call1("expand", {*this}, Attrs{{"shape", shape}});
}

Tensor Tensor::squeeze(int64_t d) const {
  int64_t wd = wrap_dim(d, dim());
  if (size(wd) != 1) return *this;
  Shape s = shape();
  s.erase(s.begin() + wd);
  return view(s);
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (auto v : shape()) {
    if (v != 1) s.push_back(v);
  }
  return view(s);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  int64_t wd = wrap_dim(d, dim() + 1);
  Shape s = shape();
  s.insert(s.begin() + wd, 1);
  return view(s);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t a = wrap_dim(start_dim, dim()), b = wrap_dim(end_dim, dim());
  OSPREY_CHECK(a <= b, "flatten: start_dim {} is after end_dim {}", a, b);
  Shape s(shape().begin(), shape().begin() + a);
  int64_t n = 1;
  for (int64_t d = a; d <= b; ++d) n *= size(d);
  s.push_back(n);
  s.insert(s.end(), shape().begin() + b + 1, shape().end());
  return reshape(s);
}

// --- copies ---

Tensor Tensor::contiguous(MemoryFormat format) const {
  if (is_contiguous(format)) return *this;
  return call1("contiguous", {*this},
               Attrs{{"channels_last", format == MemoryFormat::channels_last}});
}

Tensor Tensor::clone() const {
  return call1("clone", {*this});
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  return call1("to_device", {*this}, Attrs{{"device", device.str()}});
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  return call1("cast", {*this}, Attrs{{"dtype", dtype}});
}

Tensor Tensor::to(Device device, DType dtype) const {
  return to(dtype).to(device);
}

Tensor& Tensor::copy_(const Tensor& src) {
  Tensor source = src;
  if (source.device() != device()) source = source.detach().to(device());
  if (source.dtype() != dtype()) source = source.detach().to(dtype());
  dispatch::call_out("copy", *this, {source});
  return *this;
}

Tensor& Tensor::fill_(double value) {
  dispatch::call_out("fill", *this, {}, Attrs{{"value", value}});
  return *this;
}

// --- element access ---

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = detach().to(Device::cpu(), dtype_of<T>).contiguous();
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}

template <typename T>
T Tensor::item() const {
  OSPREY_CHECK_KIND(shape, numel() == 1, "item() on {} which has {} elements", describe(), numel());
  return to_vector<T>()[0];
}

template <typename T>
T Tensor::at(std::initializer_list<int64_t> index) const {
  OSPREY_CHECK_KIND(shape, static_cast<int64_t>(index.size()) == dim(), "at: {} indices for {}",
                    index.size(), describe());
  int64_t offset_elems = 0;
  int64_t d = 0;
  for (int64_t i : index) {
    OSPREY_CHECK(i >= 0 && i < size(d), "at: index {} out of range for dim {} of {}", i, d,
                 describe());
    offset_elems += i * stride(d);
    ++d;
  }
  Tensor element = from_storage(storage(), {}, {}, offset() + offset_elems, dtype());
  return element.item<T>();
}

// --- autograd ---

bool Tensor::requires_grad() const {
  return checked().requires_grad || checked().grad_fn;
}

Tensor& Tensor::set_requires_grad(bool value) {
  OSPREY_CHECK_KIND(autograd, is_leaf(),
                    "set_requires_grad on a non-leaf tensor {} (detach it first)", describe());
  OSPREY_CHECK_KIND(autograd, !value || is_floating(dtype()),
                    "only floating-point tensors can require grad, not {}", describe());
  checked().requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& g = checked().grad;
  return g ? Tensor(g) : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  checked().grad = grad.defined() ? grad.impl_ptr() : nullptr;
}

void Tensor::retain_grad() const {
  if (is_leaf()) return;
  auto& node = checked().grad_fn;
  node->retained.at(checked().output_nr) = impl_;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = checked().storage;
  impl->shape = checked().shape;
  impl->strides = checked().strides;
  impl->offset = checked().offset;
  impl->dtype = checked().dtype;
  return Tensor(std::move(impl));
}

void Tensor::register_hook(GradHook hook) const {
  OSPREY_CHECK_KIND(autograd, requires_grad(), "register_hook on {} which does not require grad",
                    describe());
  if (is_leaf()) {
    checked().hooks.push_back(std::move(hook));
  } else {
    checked().grad_fn->output_hooks.at(checked().output_nr).push_back(std::move(hook));
  }
}

#define OSPREY_INSTANTIATE(T)                                                          \
  template Tensor Tensor::from_vector<T>(const std::vector<T>&, const Shape&, Device); \
  template T* Tensor::data<T>() const;                                                 \
  template std::vector<T> Tensor::to_vector<T>() const;                                \
  template T Tensor::item<T>() const;                                                  \
  template T Tensor::at<T>(std::initializer_list<int64_t>) const;
OSPREY_INSTANTIATE(float)
OSPREY_INSTANTIATE(double)
OSPREY_INSTANTIATE(Half)
OSPREY_INSTANTIATE(BFloat16)
OSPREY_INSTANTIATE(int32_t)
OSPREY_INSTANTIATE(int64_t)
OSPREY_INSTANTIATE(uint8_t)
OSPREY_INSTANTIATE(bool)
#undef OSPREY_INSTANTIATE

}  // namespace osprey
