#include "data/fashion_scenes/fashion_scenes.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "data/fashion_mnist/fashion_mnist.h"
#include "data/formats/voc.h"
#include "data/image/codec.h"
#include "framework/core/error.h"

namespace osprey::data::fashion_scenes {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFolder = "FashionScenes";

std::string image_id(int64_t index) {
  return fmt::format("{:06d}", index);
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  OSPREY_CHECK_KIND(io, out.good(), "fashion-scenes: cannot write {}", path.string());
}

// What the image sets need to know about each image.
struct ImageSummary {
  int label = -1;
  int objects = 0;
  std::vector<char> has_class;
};

ImageSummary write_image(const DatasetConfig& config, const ItemSource& items, const fs::path& root,
                         int64_t index, const std::vector<PaletteColour>& palette) {
  Scene scene = compose_scene(config.scene, items, config.seed, index);
  const std::string id = image_id(index);
  write_file_bytes((root / "JPEGImages" / (id + ".jpg")).string(),
                   encode_jpeg(scene.image, config.jpeg_quality));
  AnnotatedImage annotated;
  annotated.id = id;
  annotated.width = scene.image.width;
  annotated.height = scene.image.height;
  if (config.boxes) annotated.objects = scene.objects;
  write_text(root / "Annotations" / (id + ".xml"),
             voc_annotation_xml(annotated, class_names(),
                                {.folder = kFolder,
                                 .database = "Osprey Fashion-scenes",
                                 .segmented = config.segmentation}));
  if (config.segmentation) {
    write_file_bytes((root / "SegmentationClass" / (id + ".png")).string(),
                     encode_png_palette(scene.class_mask, palette, config.png_compression));
    write_file_bytes((root / "SegmentationObject" / (id + ".png")).string(),
                     encode_png_palette(scene.object_mask, palette, config.png_compression));
  }
  ImageSummary summary;
  summary.label = scene.image_label;
  summary.objects = static_cast<int>(scene.objects.size());
  summary.has_class.assign(class_names().size(), 0);
  for (const Object& o : scene.objects) summary.has_class[o.class_id] = 1;
  return summary;
}

void write_image_sets(const DatasetConfig& config, const fs::path& root,
                      const std::vector<ImageSummary>& summaries) {
  const auto n = static_cast<int64_t>(summaries.size());
  const auto n_train = static_cast<int64_t>(std::llround(config.train_fraction * n));
  struct Split {
    const char* name;
    int64_t begin, end;
  };
  const Split splits[] = {{"train", 0, n_train}, {"val", n_train, n}, {"trainval", 0, n}};
  for (const Split& s : splits) {
    std::string ids;
    for (int64_t i = s.begin; i < s.end; ++i) ids += image_id(i) + "\n";
    write_text(root / "ImageSets" / "Main" / (std::string(s.name) + ".txt"), ids);
    if (config.segmentation) {
      write_text(root / "ImageSets" / "Segmentation" / (std::string(s.name) + ".txt"), ids);
    }
    for (size_t c = 0; c < class_names().size(); ++c) {
      std::string lines;
      for (int64_t i = s.begin; i < s.end; ++i) {
        lines += fmt::format("{} {}\n", image_id(i), summaries[i].has_class[c] ? " 1" : "-1");
      }
      write_text(root / "ImageSets" / "Main" / (class_names()[c] + "_" + s.name + ".txt"), lines);
    }
  }
  std::string classes;
  for (const std::string& name : class_names()) classes += name + "\n";
  write_text(root / "classes.txt", classes);
  if (config.scene.centred) {
    std::string labels;
    for (int64_t i = 0; i < n; ++i)
      labels += fmt::format("{} {}\n", image_id(i), summaries[i].label);
    write_text(root / "labels.txt", labels);
  }
}

}  // namespace

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = {"tshirt", "trouser",   "pullover", "dress",
                                                 "coat",   "sandal",    "shirt",    "sneaker",
                                                 "bag",    "ankle_boot"};
  return names;
}

WriteStats write_dataset(const DatasetConfig& config, const ItemSource& items,
                         const std::string& out_dir, int threads) {
  validate(config);
  OSPREY_CHECK(threads >= 1, "fashion-scenes: threads must be >= 1, got {}", threads);
  OSPREY_CHECK(items.count > 0, "fashion-scenes: no Fashion-MNIST items to compose from");
  for (int64_t i = 0; i < items.count; ++i) {
    OSPREY_CHECK(items.labels[i] >= 0 && items.labels[i] < int64_t(class_names().size()),
                 "fashion-scenes: item {} has label {} outside [0, {}]", i, items.labels[i],
                 class_names().size() - 1);
  }
  const fs::path root(out_dir);
  std::error_code ec;
  for (const char* dir : {"JPEGImages", "Annotations", "ImageSets/Main"}) {
    fs::create_directories(root / dir, ec);
    OSPREY_CHECK_KIND(io, !ec, "fashion-scenes: cannot create {}: {}", (root / dir).string(),
                      ec.message());
  }
  if (config.segmentation) {
    for (const char* dir : {"SegmentationClass", "SegmentationObject", "ImageSets/Segmentation"}) {
      fs::create_directories(root / dir, ec);
      OSPREY_CHECK_KIND(io, !ec, "fashion-scenes: cannot create {}: {}", (root / dir).string(),
                        ec.message());
    }
  }

  const auto start = std::chrono::steady_clock::now();
  const std::vector<PaletteColour> palette = voc_palette();
  std::vector<ImageSummary> summaries(static_cast<size_t>(config.count));
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (int64_t i = next++; i < config.count; i = next++) {
      try {
        summaries[i] = write_image(config, items, root, i, palette);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = config.count;  // stop the other workers early
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  write_image_sets(config, root, summaries);

  WriteStats stats;
  stats.images = config.count;
  stats.threads = threads;
  for (const ImageSummary& s : summaries) stats.objects += s.objects;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

WriteStats write_fashion_scenes(const DatasetConfig& config, const std::string& fashion_dir,
                                const std::string& out_dir, int threads) {
  FashionMnistData data = read_fashion_mnist(fashion_dir, config.source_split);
  ItemSource items{data.images.data<uint8_t>(), data.labels.data<int64_t>(), data.images.size(0)};
  return write_dataset(config, items, out_dir, threads);
}

}  // namespace osprey::data::fashion_scenes
