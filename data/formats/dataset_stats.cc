// Counting and printing for `osprey dataset stats`.
#include "data/formats/dataset_stats.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"

namespace osprey::data {

std::vector<double> default_size_edges() {
  return {32, 80, 120, 150};
}

DatasetStats::DatasetStats(std::vector<double> edges) : edges_(std::move(edges)) {
  for (size_t i = 0; i < edges_.size(); ++i) {
    OSPREY_CHECK(edges_[i] > 0 && (i == 0 || edges_[i] > edges_[i - 1]),
                 "dataset stats: size edges must be positive and increasing, got {}",
                 fmt::join(edges_, ","));
  }
  histogram_.assign(edges_.size() + 1, 0);
}

namespace {
void bump(std::vector<int64_t>& counts, int index) {
  if (index < 0) return;
  if (static_cast<size_t>(index) >= counts.size()) counts.resize(index + 1, 0);
  ++counts[index];
}
}  // namespace

void DatasetStats::add(const AnnotatedImage& image) {
  ++images_;
  bump(per_label_, image.image_label);
  if (image.objects.empty()) ++images_without_objects_;
  for (const Object& o : image.objects) {
    ++objects_;
    bump(per_class_, o.class_id);
    if (static_cast<size_t>(o.class_id) >= ignored_per_class_.size()) {
      ignored_per_class_.resize(o.class_id + 1, 0);
    }
    if (o.difficult || o.group_of) ++ignored_per_class_[o.class_id];
    double w = o.box[2] - o.box[0], h = o.box[3] - o.box[1];
    if (image.normalized_boxes) {
      if (image.width <= 0 || image.height <= 0) {
        ++unknown_size_;
        continue;
      }
      w *= image.width;
      h *= image.height;
    }
    double side = std::sqrt(std::max(0.0, w * h));
    int bin =
        static_cast<int>(std::upper_bound(edges_.begin(), edges_.end(), side) - edges_.begin());
    ++histogram_[bin];
  }
}

std::string DatasetStats::text(const ReadReport& report) const {
  std::string out = fmt::format("images: {}\n", images_);
  if (objects_ > 0 || per_label_.empty()) {
    out += fmt::format("objects: {} ({:.2f} per image), images without objects: {}\n", objects_,
                       images_ ? double(objects_) / images_ : 0.0, images_without_objects_);
  }
  size_t classes = std::max({class_names_.size(), per_class_.size(), per_label_.size()});
  out += fmt::format("classes: {}\n", classes);
  auto name = [&](size_t c) { return c < class_names_.size() ? class_names_[c] : "?"; };
  auto at = [](const std::vector<int64_t>& v, size_t c) { return c < v.size() ? v[c] : 0; };
  if (!per_label_.empty()) {
    out += "  class                          images\n";
    for (size_t c = 0; c < classes; ++c) {
      out += fmt::format("  {:>4} {:<25} {:>8}\n", c, name(c), at(per_label_, c));
    }
  }
  if (objects_ > 0 || (per_label_.empty() && classes > 0)) {
    out += "  class                         objects  difficult/crowd/group-of\n";
    for (size_t c = 0; c < classes; ++c) {
      out += fmt::format("  {:>4} {:<25} {:>8} {:>8}\n", c, name(c), at(per_class_, c),
                         at(ignored_per_class_, c));
    }
  }
  const int64_t known = objects_ - unknown_size_;
  if (known > 0) {
    out += "box size sqrt(w*h) in pixels:\n";
    for (size_t b = 0; b < histogram_.size(); ++b) {
      std::string range = b == 0               ? fmt::format("< {}", edges_[0])
                          : b == edges_.size() ? fmt::format(">= {}", edges_.back())
                                               : fmt::format("{}-{}", edges_[b - 1], edges_[b]);
      out += fmt::format("  {:<10} {:>10} {:6.2f}%\n", range, histogram_[b],
                         known ? 100.0 * histogram_[b] / known : 0.0);
    }
  }
  if (unknown_size_ > 0) {
    out += fmt::format("box size unknown (normalized boxes, image size not read): {}\n",
                       unknown_size_);
  }
  out += "problems: " + report.summary();
  return out;
}

}  // namespace osprey::data
