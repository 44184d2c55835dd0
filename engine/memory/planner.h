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

// Host bytes of T5 contexts a loaded pipeline keeps for reuse
// (pipeline::TextEmbeddingCache: about 30 contexts of the default negative
// prompt's length in bfloat16); part of every plan's host peak.
inline constexpr uint64_t kTextEmbeddingCacheBytes = uint64_t{32} << 20;

struct RequestShape {
  int64_t frames = 81;   // video frames (1 + 4k)
  int64_t height = 480;  // pixels
  int64_t width = 832;
  bool cfg = true;       // two DiT passes per step (run one after the other, as the official code)
  // The model's VAE, which sets the latent geometry (and the decoder's working
  // set). MakePlan sets it from the model (ReadVaeKind), replacing the
  // caller's value; a shape built by hand keeps the Wan2.1 VAE.
  io::VaeKind vae = io::VaeKind::kWan21;
  // The VAE decoder's width relative to the official one of its kind (its
  // first conv's output channels over 384 for Wan2.1, 1024 for Wan2.2): the
  // decode working set scales with it. MakePlan sets it from the headers (1
  // when they lack the decoder); a shape built by hand keeps 1.
  double vae_width = 1.0;

  // Pixels per DiT token along height and width: the VAE's spatial stride
  // times the DiT's 2x2 patch -- 16 (Wan2.1 VAE), 32 (Wan2.2 VAE).
  int64_t token_stride() const { return io::VaeSpatialStride(vae) * 2; }
  // DiT tokens: T * (H/s) * (W/s) with T = (frames - 1)/4 + 1 latent frames
  // (both VAEs stride 4 in time) and s = token_stride().
  int64_t tokens() const { return ((frames - 1) / 4 + 1) * (height / token_stride()) * (width / token_stride()); }
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
  // Where the weights are placed at load. kDitBlockStreaming: the DiT (both
  // experts of a pair) on the CPU, i.e. pinned host memory. kExpertSwap: the
  // high-noise expert (kDit) on the GPU, the low-noise one (kDitLowNoise) in
  // pinned host memory; each request swaps them (see MakePlan).
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
// Tokens and the decoder's size follow `r.vae` (RequestShape::tokens()).
uint64_t DitWorkingSetBytes(const DitGeometry& g, const RequestShape& r, int64_t act_bytes, bool fp8);
uint64_t VaeDecodeWorkingSetBytes(const RequestShape& r, bool tiling);
uint64_t TextEncoderWorkingSetBytes(int64_t act_bytes);

// Chooses the plan: the first candidate that fits, in order of preference:
//  1. the DiT resident on the GPU -- both experts of a Wan2.2 pair -- in bf16,
//     then fp8; for each, no offload before encoders-after-use (T5 on the GPU,
//     then on the CPU); VAE without tiling before with;
//  2. Wan2.2 expert pairs only: kExpertSwap, bf16 then fp8 (T5 on the GPU,
//     then the CPU; tiling off, then on). One expert on the GPU at a time
//     plus two of its blocks of staging: the low-noise expert replaces the
//     high-noise one block by block during the last high-noise denoising
//     pass (block k's memory is reused once that pass is past it), and the
//     high-noise one is copied back after the next request's text encoding
//     -- two one-expert copies per request. Both experts stay in pinned host
//     memory, which must hold them; the encoders are on the GPU only while
//     encoding (host copies otherwise);
//  3. DiT block streaming (fp8, T5 on the CPU, tiling): every expert in
//     pinned host memory, two blocks at a time on the GPU.
// Without a GPU everything -- both experts of a pair -- is planned in host
// RAM (DiT fp32, then fp8; for each, T5 resident before kEncodersAfterUse,
// which on the host means T5 is never resident: each encoding streams it
// block by block from its mapped checkpoint; VAE tiling off before on). Components the model lacks are left out; the
// request's `vae` is set from the model (ReadVaeKind). Errors:
// FailedPrecondition when nothing fits, saying which budget is short by how
// much for the closest candidate and which settings would fit (budgets, or the
// largest frame count that fits); InvalidArgument for a bad request shape
// (frames not 1 + 4k, height or width under the token stride), missing DiT
// tensors, experts of different geometry, or a VAE that disagrees with the DiT.
absl::StatusOr<Plan> MakePlan(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets);

// The plan a server starts with: MakePlan's when a candidate fits `request`
// (the model's default request). Otherwise the resident set is planned for
// the requests that do fit: the candidate that admits the most frames at
// the request's size (ties: the order of preference above), evaluated for
// that many frames; when no frame count fits at that size, the first
// candidate that fits the smallest request (1 frame at an eighth of the size
// per side, multiples of the token stride), evaluated for it. Per-request
// admission (EvaluateRequest) then decides what each request may ask.
// Errors: MakePlan's refusal for `request` when not even the smallest
// request fits; MakePlan's other errors.
absl::StatusOr<Plan> MakeServingPlan(const ModelHeaders& headers, const RequestShape& request,
                                     const Budgets& budgets);

// The candidate `chosen` was made with (its precisions, T5 placement, offload
// mode and tiling, and its budgets) evaluated for another request shape: the
// peaks that request would reach on the loaded model (per-request admission).
// InvalidArgument for a bad request shape; the header readers' errors.
absl::StatusOr<Plan> EvaluateRequest(const ModelHeaders& headers, const Plan& chosen, const RequestShape& request);

// Whether the plan's peaks are within its budgets (no GPU budget: host only).
bool Fits(const Plan& plan);

}  // namespace videogen::memory
