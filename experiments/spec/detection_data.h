// Detection datasets named in a spec (`train_data { detection { … } }`, osprey.proto's
// DetectionDataSpec): the spec's fields become a data::DatasetSource and data::ReadOptions, and
// the dataset is read through for_each_dataset_image — the one format dispatcher — into a
// DetectionDataset with the ReadReport of every annotation problem. The annotation policy decides
// whether a problem is an error (strict: file and object named) or repaired and counted (repair);
// the counts are logged after reading, so nothing is repaired without a trace.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "data/detection/annotation.h"
#include "data/detection/detection_loader.h"
#include "data/formats/dataset_source.h"
#include "data/formats/read_report.h"
#include "experiments/proto/osprey.pb.h"

namespace osprey::experiments {

// The spec as the readers' inputs (several paths become one comma-separated path).
data::DatasetSource detection_source(const proto::DetectionDataSpec& spec);
data::ReadOptions detection_read_options(const proto::DetectionDataSpec& spec);
data::CorruptSamplePolicy corrupt_sample_policy(const proto::DetectionDataSpec& spec);

struct DetectionData {
  std::string format;  // the one named or detected
  data::DetectionDataset dataset;
  data::ReadReport report;
  data::CorruptSamplePolicy corrupt_images = data::CorruptSamplePolicy::strict;
};

// Reads the dataset. Under strict the first annotation problem throws an io error naming the file
// and object; under repair the report's summary is written to `log` (when given) after reading,
// prefixed by `field` (e.g. "train_data.detection").
DetectionData read_detection_data(const proto::DetectionDataSpec& spec, const std::string& field,
                                  std::ostream* log);

// Appends "<field>.<name>: message" problems of the spec (missing path, unknown format) to
// `problems`; validate.cc calls it for train_data and test_data.
void detection_data_problems(const proto::DetectionDataSpec& spec, const std::string& field,
                             std::vector<std::string>& problems);

}  // namespace osprey::experiments
