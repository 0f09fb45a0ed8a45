// Maps DetectionDataSpec onto data/formats' DatasetSource and ReadOptions; the reading itself is
// for_each_dataset_image's, so formats are detected and dispatched in one place only.
#include "experiments/spec/detection_data.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace osprey::experiments {

data::DatasetSource detection_source(const proto::DetectionDataSpec& spec) {
  data::DatasetSource source;
  source.path = fmt::format("{}", fmt::join(spec.path(), ","));
  source.format = spec.format();
  source.split = spec.split();
  source.image_dir = spec.image_dir();
  source.classes = spec.classes();
  return source;
}

data::ReadOptions detection_read_options(const proto::DetectionDataSpec& spec) {
  data::ReadOptions options;
  options.policy = spec.annotation_policy() == proto::DetectionDataSpec::Annotations::REPAIR
                       ? data::ReadPolicy::repair
                       : data::ReadPolicy::strict;
  options.check_image_files = spec.check_images();
  return options;
}

data::CorruptSamplePolicy corrupt_sample_policy(const proto::DetectionDataSpec& spec) {
  return spec.corrupt_images() == proto::DetectionDataSpec::CorruptImages::SKIP
             ? data::CorruptSamplePolicy::skip
             : data::CorruptSamplePolicy::strict;
}

DetectionData read_detection_data(const proto::DetectionDataSpec& spec, const std::string& field,
                                  std::ostream* log) {
  DetectionData out;
  out.corrupt_images = corrupt_sample_policy(spec);
  data::DatasetSource source = detection_source(spec);
  data::DatasetInfo info = data::for_each_dataset_image(
      source, detection_read_options(spec), out.report,
      [&](const data::AnnotatedImage& image) { out.dataset.images.push_back(image); });
  out.format = info.format;
  out.dataset.name = info.name;
  out.dataset.root = source.path;
  out.dataset.class_names = info.class_names;
  if (log != nullptr) {
    *log << fmt::format("{}: {} ({}): {} images, {} classes; annotation problems repaired: {}\n",
                        field, info.name, info.format, out.dataset.images.size(),
                        info.class_names.size(), out.report.total());
    if (out.report.total() > 0) *log << out.report.summary();
  }
  return out;
}

void detection_data_problems(const proto::DetectionDataSpec& spec, const std::string& field,
                             std::vector<std::string>& problems) {
  if (spec.path_size() == 0) problems.push_back(field + ".path: must be set");
  for (int i = 0; i < spec.path_size(); ++i) {
    if (spec.path(i).empty())
      problems.push_back(fmt::format("{}.path[{}]: must not be empty", field, i));
  }
  const auto& formats = data::dataset_formats();
  if (spec.has_format() &&
      std::find(formats.begin(), formats.end(), spec.format()) == formats.end()) {
    problems.push_back(
        fmt::format("{}.format: unknown format '{}' (known: {}; or leave it out to "
                    "detect it)",
                    field, spec.format(), fmt::join(formats, ", ")));
  }
}

}  // namespace osprey::experiments
