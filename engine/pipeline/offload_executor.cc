#include "engine/pipeline/offload_executor.h"

#include <utility>

#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "engine/common/torch_status.h"
#include "engine/pipeline/offload_residency.h"

namespace videogen::pipeline {

// One component moved whole between its host copy and the device.
class OffloadExecutor::MovedModule {
 public:
  MovedModule(Component component, const torch::nn::Module& module, CopyEngine* engine,
              memory::Residency* residency)
      : component_(component), engine_(engine), residency_(residency) {
    const c10::InferenceMode not_inference(/*enabled=*/false);
    auto take = [&](const torch::Tensor& t) {
      Entry e;
      e.handle = t;
      e.host = engine_->HostCopy(t.contiguous());
      t.set_data(e.host);
      e.key = ResidentKeyOn(component, e.host, engine_->device());
      e.bytes = TensorBytes(e.host);
      entries_.push_back(std::move(e));
    };
    for (const auto& p : module.named_parameters(/*recurse=*/true)) take(p.value());
    for (const auto& b : module.named_buffers(/*recurse=*/true)) take(b.value());
  }

  Component component() const { return component_; }
  bool on_device() const { return on_device_; }

  // Returns the bytes copied.
  uint64_t MoveIn() {
    if (on_device_) return 0;
    const c10::InferenceMode not_inference(/*enabled=*/false);
    uint64_t copied = 0;
    for (Entry& e : entries_) {
      e.handle.set_data(engine_->ToDevice(e.host));
      if (residency_ != nullptr) residency_->Add(e.key, e.bytes);
      copied += e.bytes;
    }
    on_device_ = true;
    return copied;
  }

  void MoveOut() {
    if (!on_device_) return;
    for (Entry& e : entries_) {
      e.handle.set_data(e.host);  // the device copy is freed with its last reference
      if (residency_ != nullptr) residency_->Remove(e.key, e.bytes);
    }
    on_device_ = false;
  }

 private:
  struct Entry {
    torch::Tensor handle;  // the module's parameter / buffer
    torch::Tensor host;    // the kept host copy
    memory::ResidentKey key;  // on the device
    uint64_t bytes = 0;
  };
  const Component component_;
  CopyEngine* const engine_;
  memory::Residency* const residency_;
  std::vector<Entry> entries_;
  bool on_device_ = false;
};

absl::StatusOr<std::unique_ptr<OffloadExecutor>> OffloadExecutor::Create(OffloadMode mode,
                                                                         std::unique_ptr<CopyEngine> engine,
                                                                         std::shared_ptr<memory::Residency> residency) {
  if (mode == OffloadMode::kNone) return absl::InvalidArgumentError("offload: mode none needs no executor");
  if (engine == nullptr) return absl::InvalidArgumentError("offload: no copy engine");
  return std::unique_ptr<OffloadExecutor>(new OffloadExecutor(mode, std::move(engine), std::move(residency)));
}

OffloadExecutor::OffloadExecutor(OffloadMode mode, std::unique_ptr<CopyEngine> engine,
                                 std::shared_ptr<memory::Residency> residency)
    : mode_(mode), engine_(std::move(engine)), residency_(std::move(residency)) {}

OffloadExecutor::~OffloadExecutor() {
  // Detach the streamer first (it references the engine); moved modules keep their current data.
  streamer_.reset();
}

absl::Status OffloadExecutor::AdoptDit(Component component, models::WanModelImpl& dit) {
  for (const auto& m : moved_) {
    if (m->component() == component) {
      return absl::InvalidArgumentError(absl::StrCat("offload: ", ComponentName(component), " adopted twice"));
    }
  }
  return TorchCall("offload", [&]() -> absl::Status {
    if (mode_ == OffloadMode::kDitBlockStreaming) {
      if (streamer_ == nullptr) streamer_ = std::make_unique<DitBlockStreamer>(engine_.get(), residency_);
      return streamer_->Attach(component, dit);
    }
    moved_.push_back(std::make_unique<MovedModule>(component, dit, engine_.get(), residency_.get()));
    return absl::OkStatus();
  });
}

absl::Status OffloadExecutor::AdoptEncoder(Component component, const torch::nn::Module& module) {
  if (component != Component::kT5 && component != Component::kClip) {
    return absl::InvalidArgumentError(absl::StrCat("offload: ", ComponentName(component), " is not an encoder"));
  }
  return TorchCall("offload", [&]() -> absl::Status {
    moved_.push_back(std::make_unique<MovedModule>(component, module, engine_.get(), residency_.get()));
    return absl::OkStatus();
  });
}

bool OffloadExecutor::Needed(const MovedModule& m, OffloadPhase phase, Expert expert) const {
  switch (m.component()) {
    case Component::kT5: return phase == OffloadPhase::kTextEncoding;
    case Component::kClip: return phase == OffloadPhase::kImageEncoding;
    case Component::kVae: return true;
    case Component::kDit:
    case Component::kDitLowNoise:
      if (mode_ != OffloadMode::kExpertSwap) return phase == OffloadPhase::kDenoising || phase == OffloadPhase::kDecoding;
      // One expert at a time; while decoding, the one that ran last stays.
      if (phase == OffloadPhase::kDecoding) return m.on_device();
      if (phase != OffloadPhase::kDenoising) return false;
      return (m.component() == Component::kDitLowNoise) == (expert == Expert::kLowNoise);
  }
  return false;
}

absl::Status OffloadExecutor::Enter(OffloadPhase phase, Expert expert) {
  return TorchCall("offload", [&]() -> absl::Status {
    for (const auto& m : moved_) {
      if (!Needed(*m, phase, expert)) m->MoveOut();
    }
    for (const auto& m : moved_) {
      if (Needed(*m, phase, expert)) bytes_moved_in_ += m->MoveIn();
    }
    return absl::OkStatus();
  });
}

}  // namespace videogen::pipeline
