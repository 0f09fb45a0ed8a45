// RoI validation and grouping (see roi_check.h).
#include "ops/common/roi_check.h"

#include <cmath>

#include "framework/core/error.h"

namespace osprey::ops {

void check_rois(const Tensor& rois, DType dtype, int64_t batch, const std::string& feature_map,
                const char* op, bool values) {
  OSPREY_CHECK_KIND(shape, rois.dim() == 2 && rois.size(1) == 5,
                    "{}: rois must be K × 5 (batch_index, x1, y1, x2, y2), got {}", op,
                    rois.describe());
  OSPREY_CHECK_KIND(dtype, rois.dtype() == dtype, "{}: rois {} must have the dtype of {}", op,
                    rois.describe(), feature_map);
  if (values && rois.size(0) > 0)
    check_roi_values(rois.to_vector<double>(), batch, feature_map, op);
}

void check_roi_forward_operands(const Tensor& input, const Tensor& rois, const char* op) {
  OSPREY_CHECK_KIND(shape, input.dim() == 4, "{}: input must be 4-d (N, C, H, W), got {}", op,
                    input.describe());
  check_rois(rois, input.dtype(), input.size(0), "input " + input.describe(), op);
}

void check_roi_input_size(const Shape& size, const char* op) {
  OSPREY_CHECK_KIND(
      shape, size.size() == 4 && size[0] >= 0 && size[1] >= 0 && size[2] > 0 && size[3] > 0,
      "{}: input_size must be (N, C, H, W) with H, W > 0, got {}", op, shape_str(size));
}

void check_roi_values(const std::vector<double>& v, int64_t batch, const std::string& feature_map,
                      const char* op) {
  const auto rows = static_cast<int64_t>(v.size() / 5);
  for (int64_t k = 0; k < rows; ++k) {
    const double* r = v.data() + 5 * k;
    bool finite = true;
    for (int i = 0; i < 5; ++i) finite = finite && std::isfinite(r[i]);
    OSPREY_CHECK(finite, "{}: rois row {} ({}, {}, {}, {}, {}) has a NaN or infinite value", op, k,
                 r[0], r[1], r[2], r[3], r[4]);
    OSPREY_CHECK(r[0] == std::floor(r[0]) && r[0] >= 0 && r[0] < static_cast<double>(batch),
                 "{}: rois row {} has batch index {}, which is not an integer in [0, {}) "
                 "({})",
                 op, k, r[0], batch, feature_map);
    OSPREY_CHECK(r[1] <= r[3] && r[2] <= r[4],
                 "{}: rois row {} (batch {}, x1 {}, y1 {}, x2 {}, y2 {}) needs x1 <= x2 and "
                 "y1 <= y2",
                 op, k, r[0], r[1], r[2], r[3], r[4]);
  }
}

RoisByImage rois_by_image(const std::vector<double>& rois, int64_t batch) {
  RoisByImage g;
  const int64_t K = static_cast<int64_t>(rois.size() / 5);
  g.start.assign(static_cast<size_t>(batch + 1), 0);
  for (int64_t k = 0; k < K; ++k) ++g.start[static_cast<size_t>(rois[5 * k]) + 1];
  for (int64_t n = 0; n < batch; ++n) g.start[n + 1] += g.start[n];
  std::vector<int64_t> next(g.start.begin(), g.start.end() - 1);
  g.ids.resize(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) g.ids[next[static_cast<size_t>(rois[5 * k])]++] = k;
  return g;
}

RoiGroupsOnDevice checked_roi_groups(const Tensor& rois, int64_t batch,
                                     const std::string& feature_map, const char* op) {
  const std::vector<double> host = rois.to_vector<double>();
  check_roi_values(host, batch, feature_map, op);
  RoisByImage groups = rois_by_image(host, batch);
  if (groups.ids.empty()) groups.ids.push_back(0);
  const Device device = rois.device();
  return {
      Tensor::from_vector<int64_t>(groups.start, {batch + 1}, device),
      Tensor::from_vector<int64_t>(groups.ids, {static_cast<int64_t>(groups.ids.size())}, device)};
}

}  // namespace osprey::ops
