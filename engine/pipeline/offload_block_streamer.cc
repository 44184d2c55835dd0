#include "engine/pipeline/offload_block_streamer.h"

#include <algorithm>
#include <map>
#include <string>

#include <c10/core/InferenceMode.h>

#include "absl/strings/match.h"
#include "engine/pipeline/offload_residency.h"

namespace videogen::pipeline {
namespace {

// Slot offsets are aligned for any dtype's view of the uint8 buffer.
constexpr int64_t kAlign = 256;

int64_t AlignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Every parameter and buffer of `module` (recursively).
std::vector<torch::Tensor> WeightsOf(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) out.push_back(p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) out.push_back(b.value());
  return out;
}

}  // namespace

class DitBlockStreamer::Observer final : public models::BlockObserver {
 public:
  Observer(DitBlockStreamer* streamer, int model) : streamer_(streamer), model_(model) {}
  void BeforeBlock(int64_t index) override { streamer_->BeforeBlock(model_, index); }
  void AfterBlock(int64_t index) override { streamer_->AfterBlock(model_, index); }

 private:
  DitBlockStreamer* const streamer_;
  const int model_;
};

DitBlockStreamer::DitBlockStreamer(CopyEngine* engine, std::shared_ptr<memory::Residency> residency)
    : engine_(engine), residency_(std::move(residency)) {}

DitBlockStreamer::~DitBlockStreamer() {
  for (const auto& m : models_) m->dit->set_block_observer(nullptr);
}

absl::Status DitBlockStreamer::Attach(Component component, models::WanModelImpl& dit) {
  if (dit.blocks().empty()) return absl::InvalidArgumentError("dit: no blocks to stream");
  // Copies made here are ordinary tensors even when the caller is in inference mode.
  const c10::InferenceMode not_inference(/*enabled=*/false);
  auto model = std::make_unique<Model>();
  model->component = component;
  model->dit = &dit;
  // The non-block weights (parameters and buffers) become resident on the device.
  const auto make_resident = [&](const std::string& name, const torch::Tensor& t) {
    if (absl::StartsWith(name, "blocks.") || t.device() == engine_->device()) return;
    t.set_data(engine_->ToDevice(engine_->HostCopy(t)));
  };
  for (const auto& p : dit.named_parameters(/*recurse=*/true)) make_resident(p.key(), p.value());
  for (const auto& b : dit.named_buffers(/*recurse=*/true)) make_resident(b.key(), b.value());
  // The blocks' weights become host copies, each given its place in a slot.
  for (const models::WanAttentionBlock& b : dit.blocks()) {
    Block block;
    std::map<memory::ResidentKey, uint64_t> keyed;
    int64_t offset = 0;
    for (const torch::Tensor& t : WeightsOf(*b)) {
      Entry e;
      e.handle = t;
      e.host = engine_->HostCopy(t.contiguous());
      t.set_data(e.host);
      e.offset = offset;
      offset = AlignUp(offset + static_cast<int64_t>(TensorBytes(e.host)));
      block.bytes += TensorBytes(e.host);
      keyed[ResidentKeyOn(component, e.host, engine_->device())] += TensorBytes(e.host);
      block.entries.push_back(std::move(e));
    }
    block.keyed_bytes.assign(keyed.begin(), keyed.end());
    slot_bytes_ = std::max(slot_bytes_, offset);
    max_block_bytes_ = std::max(max_block_bytes_, block.bytes);
    model->blocks.push_back(std::move(block));
  }
  model->observer = std::make_unique<Observer>(this, static_cast<int>(models_.size()));
  dit.set_block_observer(model->observer.get());
  models_.push_back(std::move(model));
  return absl::OkStatus();
}

int DitBlockStreamer::SlotOf(int model, int64_t block) const {
  for (int s = 0; s < kStagingSlots; ++s) {
    if (slots_[s].model == model && slots_[s].block == block) return s;
  }
  return -1;
}

void DitBlockStreamer::Stage(int model, int64_t block, int slot) {
  const c10::InferenceMode not_inference(/*enabled=*/false);
  Slot& s = slots_[slot];
  if (!s.buffer.defined() || s.buffer.numel() < slot_bytes_) s.buffer = engine_->AllocateSlot(slot_bytes_);
  if (s.model >= 0 && residency_ != nullptr) {
    for (const auto& [key, bytes] : models_[s.model]->blocks[s.block].keyed_bytes) residency_->Remove(key, bytes);
  }
  Block& b = models_[model]->blocks[block];
  std::vector<torch::Tensor>& views = b.views[slot];
  if (views.empty()) {
    for (const Entry& e : b.entries) {
      views.push_back(s.buffer.narrow(0, e.offset, static_cast<int64_t>(TensorBytes(e.host)))
                          .view(e.host.scalar_type())
                          .view(e.host.sizes()));
    }
  }
  engine_->BeginCopy(slot);
  for (size_t k = 0; k < b.entries.size(); ++k) engine_->Copy(views[k], b.entries[k].host);
  engine_->EndCopy(slot);
  s.model = model;
  s.block = block;
  last_staged_slot_ = slot;
  ++blocks_copied_;
  if (residency_ != nullptr) {
    for (const auto& [key, bytes] : b.keyed_bytes) residency_->Add(key, bytes);
  }
}

void DitBlockStreamer::BeforeBlock(int model, int64_t block) {
  int slot = SlotOf(model, block);
  if (slot < 0) {
    // Not prefetched (the first pass, or the other expert ran last): copy it now.
    slot = (last_staged_slot_ + 1) % kStagingSlots;
    Stage(model, block, slot);
  }
  engine_->BeginUse(slot);
  Block& b = models_[model]->blocks[block];
  for (size_t k = 0; k < b.entries.size(); ++k) b.entries[k].handle.set_data(b.views[slot][k]);
  running_slot_ = slot;
  // Prefetch the next block into the other slot while this one runs; after
  // the last block, block 0 for the next forward pass.
  const int64_t n = static_cast<int64_t>(models_[model]->blocks.size());
  const int64_t next = block + 1 < n ? block + 1 : 0;
  if (SlotOf(model, next) < 0) Stage(model, next, (slot + 1) % kStagingSlots);
}

void DitBlockStreamer::AfterBlock(int model, int64_t block) {
  engine_->EndUse(running_slot_);
  for (Entry& e : models_[model]->blocks[block].entries) e.handle.set_data(e.host);
  running_slot_ = -1;
}

}  // namespace videogen::pipeline
