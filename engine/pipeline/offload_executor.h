// Executes a memory plan's offload mode (engine/memory/planner.h) over the
// loaded components: which weights are on the worker's device in each phase
// of a request, moved through one CopyEngine (offload_copy_engine.h) and
// recorded in the residency account at every move.
//
//   encoders-after-use  T5 (when placed on the device) and CLIP are on the
//                       device only while they encode; the DiT (both experts
//                       of a pair) only while denoising and decoding.
//   expert-swap         as encoders-after-use, but one expert at a time: the
//                       high-noise expert leaves the device at the boundary
//                       step, before the low-noise one comes in.
//   dit-block-streaming the DiT's blocks stream through two staging slots
//                       (offload_block_streamer.h); the encoders move as in
//                       encoders-after-use.
//
// The way back: every moved component keeps its host copy (pinned on CUDA)
// for the life of the model, taken once at load; moving it off the device
// drops the device copy, with no copy back (weights are read-only) and no
// re-read of the checkpoint. Re-streaming from the mapped file instead would
// save that host RAM but redo the file read and the dtype conversion (and,
// for an fp8 DiT, the quantization) for every request; the memory plan counts
// the host copies (planner.cc, the host peak of the offload modes).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/statusor.h"
#include "engine/memory/residency.h"
#include "engine/models/dit/model.h"
#include "engine/pipeline/api/generator.h"
#include "engine/pipeline/offload_block_streamer.h"
#include "engine/pipeline/offload_copy_engine.h"

namespace videogen::pipeline {

// The phases of a request, in order (kImageEncoding: CLIP and the VAE encoder).
enum class OffloadPhase { kTextEncoding, kImageEncoding, kDenoising, kDecoding };

// Thread safety: Enter is called by the one thread running requests.
class OffloadExecutor {
 public:
  // `mode` is not kNone. `residency` may be null (nothing accounted).
  static absl::StatusOr<std::unique_ptr<OffloadExecutor>> Create(OffloadMode mode, std::unique_ptr<CopyEngine> engine,
                                                                 std::shared_ptr<memory::Residency> residency);
  ~OffloadExecutor();

  // Takes charge of a loaded component (not owned: it must outlive this
  // executor), before its resident set is accounted and before its first
  // use. A moved component is left on the host (its host copy); a streamed
  // DiT as DitBlockStreamer::Attach leaves it. Components this mode does not
  // move must not be adopted (they stay where they were loaded).
  // InvalidArgument for a DiT adopted twice or a non-encoder given to
  // AdoptEncoder; the streamer's errors.
  absl::Status AdoptDit(Component component, models::WanModelImpl& dit);
  absl::Status AdoptEncoder(Component component, const torch::nn::Module& module);

  // Moves weights so that what `phase` (with `expert`, when denoising) runs
  // is on the device: first everything else off, then the phase's
  // components in. Idempotent for the same phase and expert.
  // ResourceExhausted when the device runs out of memory; Internal otherwise.
  absl::Status Enter(OffloadPhase phase, Expert expert = Expert::kSingle);

  OffloadMode mode() const { return mode_; }
  torch::Device device() const { return engine_->device(); }
  // The block streamer (dit-block-streaming), else null.
  const DitBlockStreamer* streamer() const { return streamer_.get(); }
  // Bytes copied onto the device by module moves so far (staged blocks excluded).
  uint64_t bytes_moved_in() const { return bytes_moved_in_; }

 private:
  class MovedModule;
  OffloadExecutor(OffloadMode mode, std::unique_ptr<CopyEngine> engine, std::shared_ptr<memory::Residency> residency);
  // Whether `m` belongs on the device in `phase` / `expert`.
  bool Needed(const MovedModule& m, OffloadPhase phase, Expert expert) const;

  const OffloadMode mode_;
  const std::unique_ptr<CopyEngine> engine_;
  const std::shared_ptr<memory::Residency> residency_;
  std::unique_ptr<DitBlockStreamer> streamer_;
  std::vector<std::unique_ptr<MovedModule>> moved_;
  uint64_t bytes_moved_in_ = 0;
};

}  // namespace videogen::pipeline
