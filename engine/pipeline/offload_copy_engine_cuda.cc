// Compiled only against a CUDA LibTorch (VIDEOGEN_TORCH_HAS_CUDA; see
// CMakeLists.txt). Copies to the device run on a second stream from the
// pool; per staging slot, one event marks the end of its copies (the worker's
// stream waits on it before reading the slot) and one the end of the
// computation reading it (the copy stream waits on it before overwriting the
// slot). Nothing here blocks the host: events are waited on by streams.
#include <array>

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "absl/strings/str_cat.h"
#include "engine/pipeline/offload_copy_engine.h"

namespace videogen::pipeline {
namespace {

class CudaCopyEngine final : public CopyEngine {
 public:
  explicit CudaCopyEngine(c10::DeviceIndex index)
      : index_(index), copy_stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)) {}

  torch::Device device() const override { return torch::Device(torch::kCUDA, index_); }

  torch::Tensor HostCopy(const torch::Tensor& t) override {
    torch::Tensor pinned = at::empty(t.sizes(), t.options().device(torch::kCPU).pinned_memory(true));
    pinned.copy_(t);
    return pinned;
  }

  torch::Tensor ToDevice(const torch::Tensor& host) override {
    // On the worker's current stream: ordered before the computation that reads it.
    return host.to(device(), /*non_blocking=*/true);
  }

  torch::Tensor AllocateSlot(int64_t bytes) override {
    // Allocated on the worker's stream, which is the only stream that frees it.
    return at::empty({bytes}, torch::TensorOptions().dtype(torch::kUInt8).device(device()));
  }

  void BeginCopy(int slot) override { used_[slot].block(copy_stream_); }

  void Copy(const torch::Tensor& dst, const torch::Tensor& src) override {
    const c10::cuda::CUDAStreamGuard guard(copy_stream_);
    dst.copy_(src, /*non_blocking=*/true);
  }

  void EndCopy(int slot) override { copied_[slot].record(copy_stream_); }

  void BeginUse(int slot) override { copied_[slot].block(c10::cuda::getCurrentCUDAStream(index_)); }

  void EndUse(int slot) override { used_[slot].record(c10::cuda::getCurrentCUDAStream(index_)); }

 private:
  const c10::DeviceIndex index_;
  const c10::cuda::CUDAStream copy_stream_;
  // An event never recorded is not waited on (CUDAEvent::block is then a no-op).
  std::array<at::cuda::CUDAEvent, kStagingSlots> copied_;
  std::array<at::cuda::CUDAEvent, kStagingSlots> used_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CopyEngine>> MakeCudaCopyEngine(int device_index) {
  if (device_index < 0 || device_index >= static_cast<int>(c10::cuda::device_count())) {
    return absl::InvalidArgumentError(absl::StrCat("devices: no CUDA device ", device_index));
  }
  return std::unique_ptr<CopyEngine>(new CudaCopyEngine(static_cast<c10::DeviceIndex>(device_index)));
}

}  // namespace videogen::pipeline
