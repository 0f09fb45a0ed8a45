// `osprey make-dataset fashion-scenes --out DIR [--preset cls|loc|scenes|voc] [--count N]
// [--seed S] [--threads T] [--size WxH] [--objects MIN-MAX] [--scale MIN-MAX] ...`: writes the
// built-in study's VOC-layout dataset composed from Fashion-MNIST items
// (data/fashion_scenes/fashion_scenes.h) and prints how long it took.
#include <iostream>
#include <thread>

#include "data/fashion_mnist/fashion_mnist.h"
#include "data/fashion_scenes/fashion_scenes.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/make_dataset_command.h"
#include "framework/core/error.h"

namespace osprey::cli {
namespace {

// "A-B" (or "A" for A-A) as two numbers; errors name the option.
template <typename T>
std::pair<T, T> parse_pair(const std::string& text, char separator, const std::string& option) {
  const size_t at = text.find(separator);
  try {
    size_t used = 0;
    const std::string first = text.substr(0, at);
    const T a = static_cast<T>(std::stod(first, &used));
    OSPREY_CHECK(used == first.size(), "");
    if (at == std::string::npos) return {a, a};
    const std::string second = text.substr(at + 1);
    const T b = static_cast<T>(std::stod(second, &used));
    OSPREY_CHECK(used == second.size(), "");
    return {a, b};
  } catch (const std::exception&) {
    OSPREY_THROW(value, "make-dataset: {} expects A{}B (two numbers), got '{}'", option, separator,
                 text);
  }
}

}  // namespace

data::fashion_scenes::WriteStats run_make_fashion_scenes(const MakeFashionScenesOptions& options,
                                                         std::ostream& out) {
  OSPREY_CHECK(!options.out_dir.empty(), "make-dataset fashion-scenes: --out is required");
  data::fashion_scenes::DatasetConfig config = data::fashion_scenes::preset(options.preset);
  if (options.count >= 0) config.count = options.count;
  config.seed = options.seed;
  if (!options.size.empty()) {
    auto [w, h] = parse_pair<int>(options.size, 'x', "--size");
    config.scene.width = w;
    config.scene.height = h;
    config.scene.max_size = std::min<double>(config.scene.max_size, std::min(w, h));
  }
  if (!options.objects.empty()) {
    std::tie(config.scene.min_objects, config.scene.max_objects) =
        parse_pair<int>(options.objects, '-', "--objects");
  }
  if (!options.scale.empty()) {
    std::tie(config.scene.min_size, config.scene.max_size) =
        parse_pair<double>(options.scale, '-', "--scale");
  }
  if (options.aspect_jitter >= 0) config.scene.aspect_jitter = options.aspect_jitter;
  if (options.max_overlap >= 0) config.scene.max_overlap = options.max_overlap;
  if (options.truncation >= 0) config.scene.truncation = options.truncation;
  if (!options.background.empty()) {
    using data::fashion_scenes::Background;
    if (options.background == "plain") {
      config.scene.background = Background::plain;
    } else if (options.background == "textured") {
      config.scene.background = Background::textured;
    } else if (options.background == "cluttered") {
      config.scene.background = Background::cluttered;
    } else {
      OSPREY_THROW(value,
                   "make-dataset: unknown --background '{}' (known: plain, textured, cluttered)",
                   options.background);
    }
  }
  if (options.grey) config.scene.colourise = false;
  if (!options.split.empty()) config.source_split = options.split;
  if (options.mask_threshold >= 0) config.scene.mask_threshold = options.mask_threshold;
  if (options.void_radius >= 0) config.scene.void_radius = options.void_radius;
  if (options.jpeg_quality >= 0) config.jpeg_quality = options.jpeg_quality;
  if (options.train_fraction >= 0) config.train_fraction = options.train_fraction;
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  data::fashion_scenes::WriteStats stats = data::fashion_scenes::write_fashion_scenes(
      config, options.fashion_dir, options.out_dir, threads);
  out << fmt::format(
      "fashion-scenes '{}': {} images ({} objects) of {}x{} from the Fashion-MNIST {} split, seed "
      "{}, into {} in {:.2f} s with {} threads ({:.0f} images/s)\n",
      config.preset, stats.images, stats.objects, config.scene.width, config.scene.height,
      config.source_split, config.seed, options.out_dir, stats.seconds, stats.threads,
      stats.seconds > 0 ? stats.images / stats.seconds : 0.0);
  return stats;
}

void add_make_dataset_command(CLI::App& app) {
  auto* make = app.add_subcommand("make-dataset", "generate a dataset on disk");
  make->require_subcommand(1);
  auto* scenes = make->add_subcommand(
      "fashion-scenes", "VOC-layout scenes composed from Fashion-MNIST items (built-in study)");
  auto options = std::make_shared<MakeFashionScenesOptions>();
  scenes->add_option("--out", options->out_dir, "output directory")->required();
  scenes->add_option("--preset", options->preset, "cls, loc, scenes or voc")
      ->default_val(options->preset);
  scenes->add_option("--count", options->count, "number of images (default: the preset's)");
  scenes->add_option("--seed", options->seed, "seed; image i depends on (seed, i) only")
      ->default_val(0);
  scenes->add_option("--threads", options->threads, "writer threads (0: all cores)")
      ->default_val(0);
  scenes->add_option("--size", options->size, "canvas WxH (default 256x256)");
  scenes->add_option("--objects", options->objects, "objects per image MIN-MAX");
  scenes->add_option("--scale", options->scale, "item frame side in pixels MIN-MAX");
  scenes->add_option("--aspect-jitter", options->aspect_jitter, "aspect ratio in [1/(1+j), 1+j]");
  scenes->add_option("--max-overlap", options->max_overlap, "largest IoU between two objects");
  scenes->add_option("--truncation", options->truncation,
                     "probability that an object may leave the canvas (truncated)");
  scenes->add_option("--background", options->background, "plain, textured or cluttered");
  scenes->add_flag("--grey", options->grey, "grey items instead of colourised ones");
  scenes->add_option("--split", options->split, "Fashion-MNIST split of the items: train or test");
  scenes->add_option("--mask-threshold", options->mask_threshold,
                     "item intensity (0-255) above which a pixel is in the mask (default 40)");
  scenes->add_option("--void-radius", options->void_radius,
                     "half-width of the void (255) band around object boundaries (default 2)");
  scenes->add_option("--jpeg-quality", options->jpeg_quality, "JPEG quality (default 90)");
  scenes->add_option("--train-fraction", options->train_fraction,
                     "share of the ids in ImageSets train.txt (default 0.8)");
  scenes->add_option("--fashion-dir", options->fashion_dir, "Fashion-MNIST idx files")
      ->default_val(data::kFashionMnistDefaultDir);
  scenes->callback([options] { run_make_fashion_scenes(*options, std::cout); });
}

}  // namespace osprey::cli
