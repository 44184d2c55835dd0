// DiT block streaming (memory plan offload mode dit-block-streaming): the
// attention blocks' weights stay in host memory (pinned on CUDA: the copy
// engine's HostCopy) in their resident precision -- fp8 codes stay fp8 and
// are up-cast by the layers on the device -- while the rest of the DiT
// (embeddings, head) is resident on the device. Two staging slots on the
// device hold at most two blocks: while block i runs from one slot, block
// i + 1 (after the last block: block 0, for the next forward pass) is copied
// into the other by the copy engine, ordered by events, without the host
// waiting for either. Every staged copy goes through the residency account
// (bytes of the staged blocks on the device: at most two blocks at once).
//
// With the CPU copy engine the staged copies are exact, so outputs are
// bit-identical to the resident model's.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "engine/memory/residency.h"
#include "engine/models/dit/model.h"
#include "engine/pipeline/offload_copy_engine.h"

namespace videogen::pipeline {

// Thread safety: one forward pass at a time (the worker running requests).
class DitBlockStreamer {
 public:
  // `engine` is not owned and must outlive this; `residency` may be null.
  DitBlockStreamer(CopyEngine* engine, std::shared_ptr<memory::Residency> residency);
  // Detaches from every model attached.
  ~DitBlockStreamer();
  DitBlockStreamer(const DitBlockStreamer&) = delete;
  DitBlockStreamer& operator=(const DitBlockStreamer&) = delete;

  // Takes over `dit` (not owned; must outlive this or be detached by the
  // destructor first): its block weights become host copies, every other
  // weight moves to the engine's device, and forward() stages each block as
  // it runs. Call before the model's resident set is accounted: the account
  // learns only of staged copies from here on. Both experts of a Wan2.2 pair
  // may be attached (they share the two slots). InvalidArgument when `dit`
  // has no blocks.
  absl::Status Attach(Component component, models::WanModelImpl& dit);

  // The largest block's bytes (the size of one staging slot, less alignment).
  uint64_t max_block_bytes() const { return max_block_bytes_; }
  // Blocks copied into a slot so far.
  uint64_t blocks_copied() const { return blocks_copied_; }

 private:
  struct Entry {
    torch::Tensor handle;  // the module's parameter / buffer
    torch::Tensor host;    // its host copy
    int64_t offset = 0;    // byte offset in a slot
  };
  struct Block {
    std::vector<Entry> entries;
    uint64_t bytes = 0;                                      // sum of the entries' bytes
    std::vector<std::pair<memory::ResidentKey, uint64_t>> keyed_bytes;  // per precision
    std::array<std::vector<torch::Tensor>, kStagingSlots> views;  // per slot, made on first staging
  };
  struct Model {
    Component component = Component::kDit;
    models::WanModelImpl* dit = nullptr;
    std::vector<Block> blocks;
    std::unique_ptr<models::BlockObserver> observer;
  };
  struct Slot {
    torch::Tensor buffer;  // uint8 [slot_bytes_]
    int model = -1;        // what it holds: (model, block), or -1
    int64_t block = -1;
  };
  class Observer;

  void BeforeBlock(int model, int64_t block);
  void AfterBlock(int model, int64_t block);
  // The slot holding (model, block), or -1.
  int SlotOf(int model, int64_t block) const;
  // Copies (model, block) into `slot`, replacing what it held.
  void Stage(int model, int64_t block, int slot);

  CopyEngine* const engine_;
  const std::shared_ptr<memory::Residency> residency_;
  std::vector<std::unique_ptr<Model>> models_;
  std::array<Slot, kStagingSlots> slots_;
  int64_t slot_bytes_ = 0;
  uint64_t max_block_bytes_ = 0;
  int running_slot_ = -1;
  int last_staged_slot_ = kStagingSlots - 1;
  uint64_t blocks_copied_ = 0;
};

}  // namespace videogen::pipeline
