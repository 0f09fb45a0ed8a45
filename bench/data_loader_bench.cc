// One Fashion-MNIST-sized epoch (60000 u8 1×28×28 images) through the classification loader with
// the built-in study's augmentation (pad 4, random crop 28, random flip, normalise), batch 128, for
// 0 (synchronous, one core), 1 and 2 worker threads. The images are synthetic so the benchmark runs
// without the dataset package; the loader's cost does not depend on pixel values.
// Run: ./build/bench/data_loader_bench
// Measured 2026-11-27 on the shared 2-core dev VM (load average ~7): workers 0 takes 55 ms of CPU
// per epoch (83 ms wall under that load, about 0.9 µs per image); 1 and 2 workers 100 and 72 ms
// wall. LoaderReal.FashionMnistEpochTime in data_tests measures the same on the real files.
#include <benchmark/benchmark.h>

#include <memory>

#include "data/fashion_mnist/fashion_mnist.h"
#include "data/loader.h"

namespace osprey::data {
namespace {

std::shared_ptr<const Dataset> synthetic_fashion_mnist() {
  const int64_t n = 60000;
  FashionMnistData data{Tensor::empty({n, 28, 28}, DType::u8), Tensor::empty({n}, DType::i64)};
  uint8_t* pixels = data.images.data<uint8_t>();
  for (int64_t p = 0; p < n * 784; ++p) pixels[p] = static_cast<uint8_t>((p * 2654435761u) >> 24);
  int64_t* labels = data.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) labels[i] = i % 10;
  return std::make_shared<FashionMnistDataset>(std::move(data));
}

void epoch(benchmark::State& state) {
  static const std::shared_ptr<const Dataset> dataset = synthetic_fashion_mnist();
  ClassificationTransform transform(TransformConfig{
      .pad = 4, .crop = 28, .flip = true, .mean = {kFashionMnistMean}, .std = {kFashionMnistStd}});
  DataLoader loader(dataset, transform,
                    LoaderConfig{.batch_size = 128, .workers = state.range(0), .seed = 1});
  for (auto _ : state) {
    while (auto batch = loader.next()) benchmark::DoNotOptimize(batch->images.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * dataset->size());
}

BENCHMARK(epoch)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace osprey::data

BENCHMARK_MAIN();
