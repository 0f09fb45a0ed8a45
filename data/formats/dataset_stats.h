// What `osprey dataset stats` prints, computed one image at a time so that a streamed dataset
// (OpenImages) never has to be held: image and object counts, objects per class (and how many are
// difficult/crowd/group-of), images per label for classification sets, and a histogram of box
// sizes sqrt(w·h) in original-image pixels over SNIPER's scale ranges.
//
// The default edges 32, 80, 120, 150 give the bins < 32, 32–80, 80–120, 120–150, ≥ 150 px: the
// cut points of SNIPER's VOC/COCO train valid ranges (0, 80), (32, 150), (120, ∞) (a bin lies
// wholly inside or outside each range). Boxes in normalized coordinates (OpenImages) of an image
// whose size is unknown are counted apart as "size unknown".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/formats/read_report.h"

namespace osprey::data {

std::vector<double> default_size_edges();  // 32, 80, 120, 150

class DatasetStats {
 public:
  // `edges` strictly increasing and positive (a value error otherwise).
  explicit DatasetStats(std::vector<double> edges = default_size_edges());

  void add(const AnnotatedImage& image);
  void set_class_names(std::vector<std::string> names) { class_names_ = std::move(names); }

  int64_t images() const { return images_; }
  int64_t objects() const { return objects_; }
  int64_t images_without_objects() const { return images_without_objects_; }
  const std::vector<int64_t>& objects_per_class() const { return per_class_; }
  const std::vector<int64_t>& ignored_per_class() const { return ignored_per_class_; }
  const std::vector<int64_t>& images_per_label() const { return per_label_; }
  // edges().size() + 1 bins.
  const std::vector<int64_t>& size_histogram() const { return histogram_; }
  int64_t boxes_of_unknown_size() const { return unknown_size_; }
  const std::vector<double>& edges() const { return edges_; }

  // The report: format and name header lines are the caller's; this prints counts, the class
  // table, the histogram with percentages and the problems.
  std::string text(const ReadReport& report) const;

 private:
  std::vector<double> edges_;
  std::vector<std::string> class_names_;
  int64_t images_ = 0, objects_ = 0, images_without_objects_ = 0, unknown_size_ = 0;
  std::vector<int64_t> per_class_, ignored_per_class_, per_label_, histogram_;
};

}  // namespace osprey::data
