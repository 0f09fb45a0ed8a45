#include "data/detection/batch_upload.h"

#include <algorithm>

#include "framework/core/error.h"

namespace osprey::data {

namespace {

// Free device blocks kept beyond those in use: enough for the batch being uploaded ahead and one
// of a different size.
constexpr size_t kSpareSlots = 2;

}  // namespace

BatchUploader::BatchUploader(Device device) : device_(device) {
  OSPREY_CHECK_KIND(device, device.is_cuda(), "batch upload: {} is not a CUDA device",
                    device.str());
  stream_ = backend(DeviceType::cuda).make_upload_stream(device);
  OSPREY_CHECK_KIND(device, stream_ != nullptr, "batch upload: {} has no copy streams",
                    device.str());
}

BatchUploader::~BatchUploader() {
  for (const HostInFlight& h : host_in_flight_) h.copied->synchronize();
}

void BatchUploader::collect() {
  for (auto& slot : slots_) {
    if (slot->in_use && slot->storage.use_count() == 1) {
      // A batch dropped before it was handed over (set_position) was never waited for: order its
      // copy before the release too, so that a released block has no copy in flight either.
      stream_->wait_current(*slot->copied);
      slot->released = stream_->record_current();
      slot->in_use = false;
    }
  }
  while (!host_in_flight_.empty() && host_in_flight_.front().copied->done()) {
    host_in_flight_.pop_front();
  }
}

BatchUploader::Slot& BatchUploader::slot_for(size_t nbytes) {
  Slot* best = nullptr;
  for (auto& slot : slots_) {
    if (!slot->in_use && slot->storage->nbytes() >= nbytes &&
        (!best || slot->storage->nbytes() < best->storage->nbytes())) {
      best = slot.get();
    }
  }
  if (best) {
    stream_->wait(*best->released);
  } else {
    auto slot = std::make_unique<Slot>();
    // Headroom, so that slightly larger batches reuse the block.
    const int64_t size = static_cast<int64_t>(nbytes + nbytes / 8 + 4096);
    slot->storage = Tensor::empty({size}, DType::u8, device_).storage();
    stream_->wait(*stream_->record_current());
    slots_.push_back(std::move(slot));
    best = slots_.back().get();
  }
  best->in_use = true;
  // Give back free blocks beyond the spares, once the consumer's last use of each has finished.
  size_t spare = 0;
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (!(*it)->in_use && ++spare > kSpareSlots) {
      (*it)->released->synchronize();
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
  return *best;
}

BatchUploader::Upload BatchUploader::upload(const DetectionBatch& host) {
  collect();
  DetectionBatch batch = host;
  const std::vector<Tensor*> tensors = batch_tensors(batch);
  const std::shared_ptr<Storage>& block = host.images.storage();
  // The bytes [begin, end) of the block hold the batch; they go to the start of a device block.
  size_t begin = block->nbytes(), end = 0;
  for (const Tensor* t : tensors) {
    OSPREY_CHECK_KIND(internal, t->storage() == block && t->is_contiguous(),
                      "batch upload: the batch's tensors must be contiguous views of one block");
    const size_t start = static_cast<size_t>(t->offset()) * dtype_size(t->dtype());
    begin = std::min(begin, start);
    end = std::max(end, start + static_cast<size_t>(t->numel()) * dtype_size(t->dtype()));
  }
  const size_t nbytes = end - begin;
  Slot& slot = slot_for(nbytes);
  stream_->copy_to_device(slot.storage->data(), static_cast<const char*>(block->data()) + begin,
                          nbytes);
  Upload out;
  out.copied = stream_->record();
  slot.copied = out.copied;
  host_in_flight_.push_back({out.copied, block});
  for (Tensor* t : tensors) {
    // begin is a multiple of 64 (allocate_detection_batch), so of every element size.
    const int64_t offset = t->offset() - static_cast<int64_t>(begin / dtype_size(t->dtype()));
    *t = Tensor::from_storage(slot.storage, t->shape(), t->strides(), offset, t->dtype());
  }
  out.batch = std::move(batch);
  return out;
}

void BatchUploader::hand_over(const Upload& upload) {
  stream_->wait_current(*upload.copied);
}

}  // namespace osprey::data
