// The memory planner: from checkpoint headers alone, chooses where each
// component lives, in which precision, and how it is offloaded, so that a
// request fits the GPU and host budgets -- or refuses before anything loads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/memory/model_headers.h"
#include "engine/memory/placement.h"

namespace videogen::memory {

struct RequestShape {
  int64_t frames = 81;   // video frames (1 + 4k)
  int64_t height = 480;  // pixels
  int64_t width = 832;
  bool cfg = true;       // two DiT passes per step (run one after the other, as the official code)

  // DiT tokens: T * (H/16) * (W/16) with T = (frames - 1)/4 + 1 latent frames.
  int64_t tokens() const { return ((frames - 1) / 4 + 1) * (height / 16) * (width / 16); }
};

struct Budgets {
  uint64_t gpu_bytes = 0;   // usable GPU memory (free, or --gpu-memory); 0 = no GPU
  uint64_t host_bytes = 0;  // usable host RAM (MemTotal, cgroup limit, or --host-memory)
};

// Reads the host budget from /proc/meminfo and the cgroup limit; the GPU
// budget is `gpu_override` (this LibTorch build cannot query CUDA memory; the
// server fills it from CUDA where it is available).
Budgets DetectBudgets(uint64_t gpu_override);

using ::videogen::OffloadMode;
using ::videogen::OffloadModeName;

struct ComponentPlan {
  Component component = Component::kDit;
  ComponentPlacement placement;
  uint64_t resident_bytes = 0;  // weights once loaded (ResidentBytes)
};

struct Plan {
  std::vector<ComponentPlan> components;  // those present in the model directory
  OffloadMode offload = OffloadMode::kNone;
  bool vae_tiling = false;
  RequestShape request;
  Budgets budgets;
  // Predicted peaks, bytes: per phase (encode, denoise, decode) and overall.
  uint64_t vram_encode = 0, vram_denoise = 0, vram_decode = 0, peak_vram = 0;
  uint64_t peak_host = 0;

  // The placement in ParsePlacement syntax.
  Placement placement() const;
};

// Multi-line human-readable plan (placement, offload, tiling, peaks vs budgets).
std::string FormatPlan(const Plan& plan);

// Run-time working sets (bytes), documented estimates of the engine's own
// code paths; `act_bytes` is the activation element size (2 bf16, 4 fp32).
uint64_t DitWorkingSetBytes(const DitGeometry& g, const RequestShape& r, int64_t act_bytes, bool fp8);
uint64_t VaeDecodeWorkingSetBytes(const RequestShape& r, bool tiling);
uint64_t TextEncoderWorkingSetBytes(int64_t act_bytes);

// Chooses the plan: the first candidate that fits, in order of preference
// (bf16 DiT before fp8; no offload before encoders-after-use before DiT block
// streaming; VAE without tiling before with). Without a GPU everything is
// planned on the CPU (DiT fp32, then fp8). Components the model lacks are
// left out. Errors: FailedPrecondition when nothing fits, saying which budget
// is short by how much for the closest candidate and which settings would
// fit (budgets, or the largest frame count that fits); InvalidArgument for a
// bad request shape or missing DiT tensors.
absl::StatusOr<Plan> MakePlan(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets);

}  // namespace videogen::memory
