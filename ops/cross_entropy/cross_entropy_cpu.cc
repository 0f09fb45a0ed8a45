// CPU reference kernels of cross_entropy and cross_entropy_backward (math in cross_entropy.h).
//   reference: the class dim moved last and copied to contiguous rows of C logits; each row's
//     log-softmax computed with the row maximum subtracted, everything in double; f32 and f64.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/common/op_helpers.h"
#include "ops/cross_entropy/cross_entropy.h"
#include "ops/reduce/reduce_util.h"

namespace osprey::ops {
namespace {

// What both kernels share: the logits as contiguous rows, the targets checked, the weights.
template <typename T>
struct Problem {
  Tensor rows;  // positions x classes, contiguous
  std::vector<int64_t> target;
  std::vector<double> weight;   // one per class
  std::vector<double> element;  // one per position (empty: all 1)
  int64_t classes = 0;
  int64_t class_dim = 0;
  int64_t ignore_index = -100;
  double smoothing = 0.0;
  std::string reduction;

  Problem(const KernelContext& ctx, int first) {
    const Tensor& input = ctx.input(first);
    class_dim = input.dim() == 1 ? 0 : 1;
    classes = input.size(class_dim);
    rows = cpu_rows<T>(input, {class_dim});
    target = ctx.input(first + 1).template to_vector<int64_t>();
    const Tensor& w = ctx.input(first + 2);
    if (w.defined()) {
      for (T v : w.template to_vector<T>()) weight.push_back(static_cast<double>(v));
    } else {
      weight.assign(classes, 1.0);
    }
    const Tensor& e = ctx.input(first + 3);
    if (e.defined()) {
      for (T v : e.template to_vector<T>()) element.push_back(static_cast<double>(v));
    }
    ignore_index = ctx.attrs().get_int("ignore_index");
    smoothing = ctx.attrs().get_float("label_smoothing");
    reduction = ctx.attrs().get_string("reduction");
    for (int64_t t : target) {
      OSPREY_CHECK_KIND(value, t == ignore_index || (t >= 0 && t < classes),
                        "{}: target value {} is out of range [0, {}) and not ignore_index ({})",
                        ctx.op().schema.name, t, classes, ignore_index);
    }
  }

  bool ignored(int64_t n) const { return target[n] == ignore_index; }
  double element_weight(int64_t n) const { return element.empty() ? 1.0 : element[n]; }

  // The "mean" divisor: the summed weights of the targets that count (0 gives NaN, as PyTorch);
  // the "valid" divisor: how many targets count, at least 1.
  double divisor() const {
    double total = 0, count = 0;
    for (size_t n = 0; n < target.size(); ++n) {
      if (ignored(n)) continue;
      total += element_weight(n) * weight[target[n]];
      count += 1;
    }
    return reduction == "valid" ? std::max(count, 1.0) : total;
  }

  // Stable log-softmax of row n into lp.
  void log_softmax(int64_t n, std::vector<double>& lp) const {
    const T* x = rows.data<T>() + n * classes;
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < classes; ++c) m = std::max(m, static_cast<double>(x[c]));
    double total = 0;
    for (int64_t c = 0; c < classes; ++c) total += std::exp(static_cast<double>(x[c]) - m);
    const double lse = std::log(total);
    for (int64_t c = 0; c < classes; ++c) lp[c] = (static_cast<double>(x[c]) - m) - lse;
  }

  // d loss_n / d lp[n, c] (before any reduction scale).
  double coefficient(int64_t n, int64_t c) const {
    const double hit = c == target[n] ? (1.0 - smoothing) * weight[c] : 0.0;
    return -hit - smoothing / static_cast<double>(classes) * weight[c];
  }
};

template <typename T>
void forward(KernelContext& ctx) {
  Problem<T> p(ctx, 0);
  const int64_t positions = static_cast<int64_t>(p.target.size());
  std::vector<double> lp(p.classes), losses(positions, 0.0);
  for (int64_t n = 0; n < positions; ++n) {
    if (p.ignored(n)) continue;
    p.log_softmax(n, lp);
    double loss = 0;
    for (int64_t c = 0; c < p.classes; ++c) loss += p.coefficient(n, c) * lp[c];
    losses[n] = p.element_weight(n) * loss;
  }
  const DType dtype = ctx.input(0).dtype();
  if (p.reduction == "none") {
    const Tensor& out = ctx.output(0, ctx.input(1).shape(), dtype);
    Tensor result = Tensor::empty(out.shape(), dtype);
    for (int64_t n = 0; n < positions; ++n) result.data<T>()[n] = static_cast<T>(losses[n]);
    cpu_store<T>(out, result);
    return;
  }
  double total = 0;
  for (double l : losses) total += l;
  if (p.reduction == "mean" || p.reduction == "valid") total /= p.divisor();
  ctx.output(0, {}, dtype).template data<T>()[0] = static_cast<T>(total);
}

template <typename T>
void backward(KernelContext& ctx) {
  Problem<T> p(ctx, 1);
  const Tensor& input = ctx.input(1);
  const Tensor& out = ctx.output(0, input.shape(), input.dtype());
  const int64_t positions = static_cast<int64_t>(p.target.size());
  if (out.numel() == 0) return;
  const std::vector<T> g = ctx.input(0).template to_vector<T>();
  const bool none = p.reduction == "none";
  double scale = none ? 1.0 : static_cast<double>(g[0]);
  if (p.reduction == "mean" || p.reduction == "valid") scale /= p.divisor();
  Tensor result = Tensor::empty(p.rows.shape(), input.dtype());
  T* dst = result.data<T>();
  std::vector<double> lp(p.classes);
  for (int64_t n = 0; n < positions; ++n) {
    T* row = dst + n * p.classes;
    if (p.ignored(n)) {
      std::fill(row, row + p.classes, T(0));
      continue;
    }
    const double s = (none ? static_cast<double>(g[n]) : scale) * p.element_weight(n);
    p.log_softmax(n, lp);
    double total = 0;
    for (int64_t c = 0; c < p.classes; ++c) total += p.coefficient(n, c);
    for (int64_t c = 0; c < p.classes; ++c) {
      row[c] = static_cast<T>(s * (p.coefficient(n, c) - std::exp(lp[c]) * total));
    }
  }
  Tensor out_rows = permuted_view(out, kept_then_reduced(out.dim(), {p.class_dim}));
  cpu_map<T, T>(
      out_rows, [](T v) { return v; }, result);
}

const bool registered = [] {
  const char* doc = "class dim moved last (copied), rows computed serially in double";
  register_kernel(
      "cross_entropy", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(0).dtype(), "cross_entropy",
                              [&]<typename T>() { forward<T>(ctx); });
      },
      {}, doc);
  register_kernel(
      "cross_entropy_backward", DeviceType::cpu, "reference", 0,
      [](KernelContext& ctx) {
        OSPREY_DISPATCH_FLOAT(ctx.input(1).dtype(), "cross_entropy_backward",
                              [&]<typename T>() { backward<T>(ctx); });
      },
      {}, doc);
  return true;
}();

}  // namespace
}  // namespace osprey::ops
