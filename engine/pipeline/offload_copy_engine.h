// The device side of the offload executors (offload_executor.h): where
// weights live off the device, how they are copied in, and how the copies
// are ordered against the computation. The executors themselves are
// device-neutral; one CopyEngine per worker device implements this for the
// CPU (synchronous copies, for tests and videogen-verify --offload) or CUDA
// (offload_copy_engine_cuda.cc: a second stream, events, pinned host memory).
//
// Staging slots: a block streamer copies a block's weights into one of
// `kStagingSlots` device buffers while the computation reads the other.
// Per slot, the engine keeps two orderings: the copy into a slot waits for the
// computation's last use of it (EndUse), and the computation's use waits for
// the copy (EndCopy) -- on the device, never by blocking the host.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace videogen::pipeline {

inline constexpr int kStagingSlots = 2;

// Thread safety: used by one worker thread at a time (the one running requests).
class CopyEngine {
 public:
  virtual ~CopyEngine() = default;

  // The device the weights are computed on.
  virtual torch::Device device() const = 0;

  // A host copy of `t` (any device) that copies to the device can read
  // asynchronously: pinned memory on CUDA. Always a handle distinct from `t`
  // (callers redirect `t` with set_data); on the CPU engine it shares `t`'s
  // storage when `t` is already on the host (no copy).
  virtual torch::Tensor HostCopy(const torch::Tensor& t) = 0;

  // A whole-tensor copy of host tensor `host` onto the device, ordered
  // before any later computation on the worker's stream (module moves).
  // The CPU engine returns a fresh copy (host.clone()).
  virtual torch::Tensor ToDevice(const torch::Tensor& host) = 0;

  // A device buffer of `bytes` bytes (uint8 [bytes]) for one staging slot.
  virtual torch::Tensor AllocateSlot(int64_t bytes) = 0;

  // Copies into `slot` (0 <= slot < kStagingSlots): BeginCopy, then Copy for
  // each tensor (`dst` a view of the slot's buffer, `src` a HostCopy of the
  // same shape and dtype), then EndCopy. BeginCopy orders the copies after
  // the computation's last EndUse of the slot.
  virtual void BeginCopy(int slot) = 0;
  virtual void Copy(const torch::Tensor& dst, const torch::Tensor& src) = 0;
  virtual void EndCopy(int slot) = 0;
  // The computation's use of `slot`: BeginUse orders what follows on the
  // worker's stream after the slot's last EndCopy; EndUse marks the end of
  // the computation that reads the slot.
  virtual void BeginUse(int slot) = 0;
  virtual void EndUse(int slot) = 0;
};

// Synchronous copies on the host (device() is the CPU): every Begin/End is
// a no-op, Copy is dst.copy_(src). Outputs computed from staged copies are
// bit-identical to those computed from the original tensors.
std::unique_ptr<CopyEngine> MakeCpuCopyEngine();

// The engine for `device`: the CPU engine for the CPU, the CUDA engine for
// cuda:N. FailedPrecondition for CUDA when this LibTorch has no CUDA
// (offload_copy_engine_none.cc); InvalidArgument for a device index that
// does not exist.
absl::StatusOr<std::unique_ptr<CopyEngine>> MakeCopyEngine(torch::Device device);

// The CUDA engine (offload_copy_engine_cuda.cc, or _none.cc without CUDA).
absl::StatusOr<std::unique_ptr<CopyEngine>> MakeCudaCopyEngine(int device_index);

}  // namespace videogen::pipeline
