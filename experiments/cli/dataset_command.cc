// `osprey dataset stats`: a DatasetStats fed by for_each_dataset_image, printed with a header
// naming the format and dataset.
#include "experiments/cli/dataset_command.h"

#include <fmt/format.h>

#include <iostream>

#include "data/formats/dataset_source.h"
#include "data/formats/image_size.h"
#include "experiments/cli/commands.h"

namespace osprey::cli {

data::DatasetStats run_dataset_stats(const DatasetStatsOptions& options, std::ostream& out) {
  data::ReadOptions read;
  read.policy = data::parse_read_policy(options.policy);
  read.check_image_files = options.check_images;
  data::ReadReport report;
  data::DatasetStats stats(options.edges);
  int64_t sizes_read = 0, sizes_unreadable = 0;
  data::DatasetInfo info = data::for_each_dataset_image(
      {options.path, options.format, options.split, options.image_dir, options.classes}, read,
      report, [&](const data::AnnotatedImage& image) {
        if (!options.read_image_sizes || !image.normalized_boxes || image.width > 0 ||
            image.image_path.empty()) {
          stats.add(image);
          return;
        }
        data::AnnotatedImage sized = image;
        if (auto size = data::read_image_size(image.image_path)) {
          data::to_pixel_boxes(sized, size->first, size->second);
          ++sizes_read;
        } else {
          ++sizes_unreadable;
        }
        stats.add(sized);
      });
  stats.set_class_names(info.class_names);
  out << fmt::format("dataset: {} (format {})\n", info.name, info.format);
  if (report.count(data::ProblemKind::split_image_group) > 0) {
    out << "note: images whose rows are not contiguous are counted once per group of rows\n";
  }
  if (sizes_read + sizes_unreadable > 0) {
    out << fmt::format("image sizes read from file headers: {} (unreadable: {})\n", sizes_read,
                       sizes_unreadable);
  }
  out << stats.text(report);
  return stats;
}

void add_dataset_command(CLI::App& app) {
  auto* dataset = app.add_subcommand("dataset", "dataset tools");
  dataset->require_subcommand(1);
  auto* stats = dataset->add_subcommand(
      "stats", "image/object counts, classes, box sizes by SNIPER scale range, problems");
  auto options = std::make_shared<DatasetStatsOptions>();
  stats->add_option("path", options->path, "dataset folder or annotation file")->required();
  stats->add_option("--format", options->format, "dataset format (detected when omitted)")
      ->check(CLI::IsMember(data::dataset_formats()));
  stats->add_option("--split", options->split, "split (VOC: trainval; COCO: train2017; ...)");
  stats->add_option("--images", options->image_dir, "image folder (COCO, OpenImages, lists)");
  stats->add_option("--classes", options->classes,
                    "class file (OpenImages descriptions, synset mapping, class list)");
  stats->add_option("--edges", options->edges, "box-size bin edges in pixels")
      ->delimiter(',')
      ->capture_default_str();
  stats->add_option("--policy", options->policy, "annotation problems: repair or strict")
      ->check(CLI::IsMember({"repair", "strict"}))
      ->capture_default_str();
  stats->add_flag("--no-image-check{false}", options->check_images,
                  "do not check that image files exist");
  stats->add_flag("--no-image-sizes{false}", options->read_image_sizes,
                  "do not read image sizes from file headers for normalized boxes");
  stats->callback([options] { run_dataset_stats(*options, std::cout); });
}

}  // namespace osprey::cli
