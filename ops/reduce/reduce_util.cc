#include "ops/reduce/reduce_util.h"

#include <numeric>
#include <random>

#include "framework/autograd/grad_mode.h"

namespace osprey::ops {

std::vector<int64_t> reduction_dims(const Shape& shape, const std::vector<int64_t>& dims,
                                    const char* op) {
  const int64_t ndim = static_cast<int64_t>(shape.size());
  std::vector<int64_t> out;
  if (dims.empty()) {
    out.resize(ndim);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int64_t d : dims) {
    int64_t w = single_dim(d, ndim, op);
    OSPREY_CHECK(std::find(out.begin(), out.end(), w) == out.end(),
                 "{}: dim {} appears more than once in dims", op, d);
    out.push_back(w);
  }
  // A 0-d tensor has no dim to reduce: dim 0 / -1 name the tensor itself.
  if (ndim == 0) return {};
  std::sort(out.begin(), out.end());
  return out;
}

int64_t single_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  OSPREY_CHECK(dim >= lo && dim <= hi, "{}: dim {} is out of range for a tensor of rank {}", op,
               dim, ndim);
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!reduced) {
      out.push_back(shape[d]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= shape[d];
  return n;
}

double var_divisor(int64_t n, int64_t correction) {
  return static_cast<double>(std::max<int64_t>(0, n - correction));
}

Tensor expand_reduced(const Tensor& grad, const Shape& input_shape,
                      const std::vector<int64_t>& dims, bool keepdim) {
  Tensor g = grad;
  if (!keepdim) {
    for (int64_t d : dims) g = g.unsqueeze(d);  // ascending, so each lands at its final place
  }
  return g.expand(input_shape).contiguous();
}

Shape kept_then_reduced(int64_t ndim, const std::vector<int64_t>& dims) {
  Shape perm;
  for (int64_t d = 0; d < ndim; ++d) {
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) perm.push_back(d);
  }
  perm.insert(perm.end(), dims.begin(), dims.end());
  return perm;
}

Tensor permuted_view(const Tensor& t, const Shape& perm) {
  Shape shape(perm.size()), strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    shape[i] = t.shape()[perm[i]];
    strides[i] = t.strides()[perm[i]];
  }
  return Tensor::from_storage(t.storage(), shape, strides, t.offset(), t.dtype());
}

Tensor distinct_values(CaseRandom& rng, const Shape& shape, DType dtype) {
  int64_t n = shape_numel(shape);
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = n == 1 ? 0.5 : -1.0 + 2.0 * i / (n - 1);
  std::shuffle(values.begin(), values.end(), rng.engine());
  autograd::NoGradGuard no_grad;
  return Tensor::from_vector<double>(values, shape).to(dtype);
}

}  // namespace osprey::ops
