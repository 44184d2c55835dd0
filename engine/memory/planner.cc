#include "engine/memory/planner.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/host_memory.h"
#include "engine/common/status_macros.h"

namespace videogen::memory {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
// CUDA context, cuBLAS workspaces and allocator slack on the GPU.
constexpr uint64_t kCudaReserve = kGiB / 2;
// This process without weights (LibTorch, gRPC, buffers) on the host, and
// the pipeline's text-embedding cache.
constexpr uint64_t kHostBaseline = kGiB / 2 + kTextEmbeddingCacheBytes;
// Tokens of the text context (T5) and of the CLIP image context.
constexpr int64_t kTextLen = 512, kClipTokens = 257;

double Gib(uint64_t b) { return static_cast<double>(b) / static_cast<double>(kGiB); }

struct Candidate {
  Precision dit = Precision::kBf16;
  OffloadMode offload = OffloadMode::kNone;
  bool t5_on_cpu = false;
  bool tiling = false;
  std::string Describe() const {
    return absl::StrCat("dit ", std::string(PrecisionName(dit)), t5_on_cpu ? ", t5 on cpu" : "", ", offload ",
                        std::string(OffloadModeName(offload)), tiling ? ", vae tiling" : "");
  }
};

}  // namespace

Budgets DetectBudgets(uint64_t gpu_override) { return Budgets{gpu_override, HostMemoryLimitBytes()}; }

Placement Plan::placement() const {
  Placement p;
  for (const ComponentPlan& c : components) p[c.component] = c.placement;
  return p;
}

uint64_t DitWorkingSetBytes(const DitGeometry& g, const RequestShape& r, int64_t act, bool fp8) {
  const uint64_t L = static_cast<uint64_t>(r.tokens()), d = g.dim, f = g.ffn_dim;
  const uint64_t a = static_cast<uint64_t>(act);
  // Residual stream x and h in fp32.
  const uint64_t residual = 2 * L * d * 4;
  // Self-attention: the fp32 normed and modulated input (3 temporaries), q/k/v,
  // the rotated q and k, the output; RoPE's float64 temporaries (about 3 of q
  // or k) exist for one chunk of kRopeChunkRows rows at a time (ApplyRope,
  // engine/models/dit/rope.h); blocked attention workspace: heads x 256 query
  // rows x 2048 keys x (scores, probs, stats) fp32 (an upper bound of the
  // per-thread tiles). Checked against bench_working_set (README).
  // Four more activation-sized temporaries and 256 MiB of tiles and GEMM
  // buffers cover what bench_working_set measures beyond these (ratio ~0.8).
  constexpr uint64_t kRopeChunkRows = 2048;
  const uint64_t attention = L * d * (3 * 4 + 3 * a + 2 * a + a + 4 * a) +
                             3 * std::min(L, kRopeChunkRows) * d * 8 +
                             static_cast<uint64_t>(g.num_heads) * 256 * 2048 * 4 * 3 + (uint64_t{256} << 20);
  // FFN: fp32 modulated input, hidden and GELU output.
  const uint64_t ffn = L * d * 4 + 2 * L * f * a;
  // Text (+ image) context through the embedding and the per-block k/v projections.
  const uint64_t context = (kTextLen + (g.image_input ? kClipTokens : 0)) * d * a * 6;
  // Just-in-time up-cast of the largest fp8 layer.
  const uint64_t upcast = fp8 ? d * f * a : 0;
  // Per-token time conditioning (TI2V-5B): the six modulation rows of every
  // token in fp32, as the official code holds them ([L, 6, dim]); an upper
  // bound where the engine gathers rows per use (models/dit/time_rows.h).
  const uint64_t time_rows = g.per_token_timesteps ? L * 6 * d * 4 : 0;
  // Latents: input, prediction(s) kept across the CFG passes, scheduler state.
  const uint64_t latent = static_cast<uint64_t>(g.out_dim) * L * 4 * 4 * (r.cfg ? 4 : 3);
  return residual + std::max(attention, ffn) + context + upcast + time_rows + latent;
}

uint64_t VaeDecodeWorkingSetBytes(const RequestShape& r, bool tiling) {
  // Both decoders run chunk by chunk (1 latent frame -> 4 frames) with a
  // causal cache of 2 frames per conv. Per output pixel, in fp32 channels x
  // frames ("channel-frames"), measured as peak-RSS growth of our decoders on
  // the CPU (official configs, 5-frame videos, 2 cores): Wan2.1 4460 at
  // 256x256 (1169 MB); Wan2.2 4200 at 256x256 (1106 MB), 4670 at 128x128,
  // independent of the frame count (the caches hold 2 frames). (Read from the
  // code, Wan2.1's full-resolution stage alone is ~3 live tensors of 192
  // channels over 4 + 2 frames = 3456.) 4608 covers both.
  // Tiling bounds the spatial extent to 256x256 tiles with 32 px overlap.
  // Plus the decoded video (fp32).
  // Measured on the official widths; a narrower decoder (the tiny models) scales down.
  const uint64_t channel_frames = static_cast<uint64_t>(4608 * r.vae_width);
  const uint64_t area = tiling ? std::min<uint64_t>(r.height * r.width, 320 * 320)
                               : static_cast<uint64_t>(r.height * r.width);
  const uint64_t stage = area * channel_frames * 4;
  const uint64_t video = 3ull * r.frames * r.height * r.width * 4;
  return stage + video;
}

uint64_t TextEncoderWorkingSetBytes(int64_t act) {
  // umT5-XXL over 512 tokens: hidden 4096, FFN 10240 (gate and fc1), bias [64, 512, 512].
  return static_cast<uint64_t>(kTextLen) * (4096 * 4 + 10240 * 3) * act + 64ull * 512 * 512 * 4;
}

namespace {

// The candidates in order of preference (MakePlan's contract).
std::vector<Candidate> Candidates(bool gpu, bool expert_pair) {
  std::vector<Candidate> candidates;
  if (gpu) {
    for (Precision p : {Precision::kBf16, Precision::kFp8}) {
      for (bool tiling : {false, true}) {
        candidates.push_back({p, OffloadMode::kNone, false, tiling});
        candidates.push_back({p, OffloadMode::kEncodersAfterUse, false, tiling});
        candidates.push_back({p, OffloadMode::kEncodersAfterUse, true, tiling});
      }
    }
    for (Precision p : {Precision::kBf16, Precision::kFp8}) {
      for (bool tiling : {false, true}) {
        if (expert_pair) {
          candidates.push_back({p, OffloadMode::kExpertSwap, false, tiling});
          candidates.push_back({p, OffloadMode::kExpertSwap, true, tiling});
        }
      }
    }
    candidates.push_back({Precision::kFp8, OffloadMode::kDitBlockStreaming, true, true});
  } else {
    // Host only: kEncodersAfterUse streams T5 from its mapped checkpoint.
    for (Precision p : {Precision::kFp32, Precision::kFp8}) {
      for (bool tiling : {false, true}) {
        candidates.push_back({p, OffloadMode::kNone, true, tiling});
        candidates.push_back({p, OffloadMode::kEncodersAfterUse, true, tiling});
      }
    }
  }
  return candidates;
}

// What every candidate of one request is evaluated against.
struct PlanInputs {
  DitGeometry geometry;
  const ComponentHeaders* dit = nullptr;            // the DiT, or the high-noise expert
  const ComponentHeaders* dit_low_noise = nullptr;  // the low-noise expert; null for one-DiT models
  const ComponentHeaders* t5 = nullptr;
  const ComponentHeaders* clip = nullptr;  // null for models without an image encoder
  const ComponentHeaders* vae = nullptr;
  uint64_t largest_dit_tensor = 0;
  uint64_t t5_block_bytes = 0;  // one T5 encoder block in bf16 (the unit of T5 streaming)
  RequestShape request;
  Budgets budgets;
};

// Bytes on the GPU in each phase besides the working sets.
struct GpuResidents {
  uint64_t encode = 0, denoise = 0, decode = 0;
};

// Peak VRAM per phase when the GPU computes.
void PredictVram(const GpuResidents& resident, uint64_t dit_ws, uint64_t vae_ws, uint64_t enc_ws, Plan& plan) {
  plan.vram_encode = resident.encode + enc_ws + kCudaReserve;
  plan.vram_denoise = resident.denoise + dit_ws + kCudaReserve;
  plan.vram_decode = resident.decode + vae_ws + kCudaReserve;
  plan.peak_vram = std::max({plan.vram_encode, plan.vram_denoise, plan.vram_decode});
}

// The plan of one candidate with its predicted peaks (fitting or not).
Plan Evaluate(const Candidate& c, const PlanInputs& in) {
  const bool gpu = in.budgets.gpu_bytes > 0;
  Plan plan;
  plan.offload = c.offload;
  plan.vae_tiling = c.tiling;
  plan.request = in.request;
  plan.budgets = in.budgets;
  const Device cuda{DeviceKind::kCuda, 0}, cpu{DeviceKind::kCpu, 0};
  const Device dev = gpu ? cuda : cpu;
  auto add = [&](const ComponentHeaders* h, Device d, Precision p) -> uint64_t {
    if (h == nullptr) return 0;
    // fp8's high-precision rest is held in the compute dtype: bf16 where a GPU computes, fp32 on CPU-only hosts.
    ComponentPlan cp{h->component, {d, p}, ResidentBytes(*h, p, gpu ? Precision::kBf16 : Precision::kFp32)};
    plan.components.push_back(cp);
    return cp.resident_bytes;
  };
  const bool streaming = c.offload == OffloadMode::kDitBlockStreaming;
  const bool swap = c.offload == OffloadMode::kExpertSwap;
  // One expert's (or the DiT's) bytes; `experts` of them in all.
  const uint64_t dit_bytes = add(in.dit, streaming ? cpu : dev, c.dit);
  add(in.dit_low_noise, streaming || swap ? cpu : dev, c.dit);
  const uint64_t experts = in.dit_low_noise != nullptr ? 2 : 1;
  const uint64_t t5_bytes = add(in.t5, c.t5_on_cpu ? cpu : dev, Precision::kBf16);
  const uint64_t clip_bytes = add(in.clip, dev, gpu ? Precision::kFp16 : Precision::kFp32);
  const uint64_t vae_bytes = add(in.vae, dev, Precision::kFp32);
  const int64_t act = gpu ? 2 : 4;
  const uint64_t dit_ws = DitWorkingSetBytes(in.geometry, in.request, act, c.dit == Precision::kFp8);
  const uint64_t vae_ws = VaeDecodeWorkingSetBytes(in.request, c.tiling);
  const uint64_t enc_ws = TextEncoderWorkingSetBytes(act);
  if (!gpu) {
    // Host only, kEncodersAfterUse: T5 is never resident; each encoding loads
    // one block at a time from the mapped checkpoint (the block, plus the
    // mapped pages of the tensor being read) and releases it.
    const bool t5_streamed = c.offload == OffloadMode::kEncodersAfterUse && in.t5 != nullptr;
    if (t5_streamed) {
      for (ComponentPlan& cp : plan.components) {
        if (cp.component == Component::kT5) cp.resident_bytes = 0;
      }
    }
    const uint64_t t5_ws = t5_streamed ? enc_ws + 2 * in.t5_block_bytes : enc_ws;
    const uint64_t all = experts * dit_bytes + (t5_streamed ? 0 : t5_bytes) + clip_bytes + vae_bytes;
    plan.peak_host = kHostBaseline + all + std::max({dit_ws, vae_ws, t5_ws}) + in.largest_dit_tensor;
    return plan;
  }
  const uint64_t t5_gpu = c.t5_on_cpu ? 0 : t5_bytes;
  const uint64_t t5_host = c.t5_on_cpu ? t5_bytes : 0;
  const uint64_t encoders_gpu = t5_gpu + clip_bytes;
  // Two blocks' weights: those on the GPU while streaming (the running one and
  // the next), and the staging of the block-wise expert swap.
  const uint64_t two_blocks = 2 * dit_bytes / static_cast<uint64_t>(std::max<int64_t>(in.geometry.num_layers, 1));
  GpuResidents resident;
  uint64_t dit_host = 0;  // pinned DiT weights
  switch (c.offload) {
    case OffloadMode::kNone:
      resident.encode = resident.denoise = resident.decode = experts * dit_bytes + encoders_gpu + vae_bytes;
      break;
    case OffloadMode::kEncodersAfterUse:
      resident.encode = encoders_gpu + vae_bytes;
      resident.denoise = resident.decode = experts * dit_bytes + vae_bytes;
      break;
    case OffloadMode::kExpertSwap:
      resident.encode = encoders_gpu + vae_bytes;
      resident.denoise = dit_bytes + two_blocks + vae_bytes;
      resident.decode = dit_bytes + vae_bytes;
      dit_host = experts * dit_bytes;
      break;
    case OffloadMode::kDitBlockStreaming:
      resident.encode = encoders_gpu + vae_bytes + two_blocks;
      resident.denoise = resident.decode = two_blocks + vae_bytes;
      dit_host = experts * dit_bytes;
      break;
  }
  PredictVram(resident, dit_ws, vae_ws, enc_ws, plan);
  // Host: T5 on CPU, the host copies the offload executor keeps for the life
  // of the model (engine/pipeline/offload_executor.h: pinned, taken once at
  // load, so moving a component off the GPU copies nothing back) -- the
  // encoders on the GPU and the DiT (encoders-after-use), or the pinned DiT
  // weights (streaming, expert swap) -- and the load transient (one stored
  // tensor).
  const uint64_t offloaded =
      c.offload == OffloadMode::kNone ? 0 : encoders_gpu + (dit_host != 0 ? 0 : experts * dit_bytes);
  plan.peak_host = kHostBaseline + t5_host + (c.t5_on_cpu ? enc_ws : 0) + dit_host + offloaded + in.largest_dit_tensor;
  return plan;
}

// Bytes by which `plan` misses its budgets (0 when it fits), and why, in words.
uint64_t Shortfall(const Plan& plan, const Candidate& c, std::string* why) {
  const Budgets& b = plan.budgets;
  const bool vram_ok = b.gpu_bytes == 0 || plan.peak_vram <= b.gpu_bytes;
  const bool host_ok = plan.peak_host <= b.host_bytes;
  const uint64_t vram_over = vram_ok ? 0 : plan.peak_vram - b.gpu_bytes;
  const uint64_t host_over = host_ok ? 0 : plan.peak_host - b.host_bytes;
  why->clear();
  if (!vram_ok) {
    absl::StrAppend(why, absl::StrFormat("GPU memory short by %.2f GiB (needs %.2f GiB, budget %.2f GiB)",
                                         Gib(vram_over), Gib(plan.peak_vram), Gib(b.gpu_bytes)));
  }
  if (!host_ok) {
    absl::StrAppend(why, why->empty() ? "" : "; ",
                    absl::StrFormat("host RAM short by %.2f GiB (needs %.2f GiB, budget %.2f GiB)", Gib(host_over),
                                    Gib(plan.peak_host), Gib(b.host_bytes)));
  }
  absl::StrAppend(why, " with ", c.Describe());
  return vram_over + host_over;
}

absl::StatusOr<Plan> PlanFor(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets,
                             bool suggest_frames);

// The refusal when nothing fits: the closest candidate, the budgets that
// would fit it and, when `suggest_frames`, the longest video that fits.
absl::Status Refusal(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets,
                     const Plan& closest, const std::string& closest_short, bool suggest_frames) {
  // Flag values the server accepts (whole MiB, rounded up); a machine without
  // a GPU is never told to give GPU memory.
  const auto mib = [](uint64_t bytes) { return (bytes + (uint64_t{1} << 20) - 1) >> 20; };
  std::string hint = budgets.gpu_bytes == 0
                         ? absl::StrFormat("; it would fit with --host-memory %dM", mib(closest.peak_host))
                         : absl::StrFormat("; it would fit with --gpu-memory %dM and --host-memory %dM",
                                           mib(closest.peak_vram), mib(closest.peak_host));
  for (int64_t frames = request.frames - 4; suggest_frames && frames >= 1; frames -= 4) {
    RequestShape shorter = request;
    shorter.frames = frames;
    if (PlanFor(headers, shorter, budgets, /*suggest_frames=*/false).ok()) {
      absl::StrAppend(&hint, absl::StrFormat(", or with --frames %d at this size", frames));
      break;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat("memory plan: nothing fits ", request.width, "x", request.height,
                                                    "x", request.frames, " frames; closest candidate: ",
                                                    closest_short, hint));
}

// What the candidates of `request` are evaluated against, from the headers.
absl::StatusOr<PlanInputs> Inputs(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets) {
  if (request.frames < 1 || request.height < 16 || request.width < 16 || (request.frames - 1) % 4 != 0) {
    return absl::InvalidArgumentError("request: frames must be 1 + 4k and height/width at least 16");
  }
  PlanInputs in;
  ASSIGN_OR_RETURN(in.geometry, ReadDitGeometry(headers));
  in.dit = headers.Find(Component::kDit);
  in.dit_low_noise = headers.Find(Component::kDitLowNoise);
  if (in.dit_low_noise != nullptr) {
    ASSIGN_OR_RETURN(const DitGeometry low, ReadDitGeometry(headers, Component::kDitLowNoise));
    if (low.dim != in.geometry.dim || low.ffn_dim != in.geometry.ffn_dim || low.num_layers != in.geometry.num_layers ||
        low.in_dim != in.geometry.in_dim || low.out_dim != in.geometry.out_dim) {
      return absl::InvalidArgumentError(absl::StrCat("dit_low_noise: the experts differ in geometry (", in.dit->path,
                                                     " and ", in.dit_low_noise->path, ")"));
    }
  }
  in.t5 = headers.Find(Component::kT5);
  if (in.t5 != nullptr) {
    for (const io::TensorInfo& t : in.t5->tensors) {
      if (t.name.rfind("blocks.0.", 0) != 0) continue;
      uint64_t n = 1;
      for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
      in.t5_block_bytes += n * PrecisionBytes(Precision::kBf16);
    }
  }
  in.clip = in.geometry.image_input ? headers.Find(Component::kClip) : nullptr;
  in.vae = headers.Find(Component::kVae);
  in.largest_dit_tensor = LargestTensorBytes(*in.dit);
  if (in.dit_low_noise != nullptr) {
    in.largest_dit_tensor = std::max(in.largest_dit_tensor, LargestTensorBytes(*in.dit_low_noise));
  }
  in.request = request;
  ASSIGN_OR_RETURN(in.request.vae, ReadVaeKind(headers));
  in.request.vae_width = 1.0;
  if (const ComponentHeaders* vae = headers.Find(Component::kVae); vae != nullptr) {
    const double official = in.request.vae == io::VaeKind::kWan22 ? 1024.0 : 384.0;
    for (const io::TensorInfo& t : vae->tensors) {
      if (t.name == "decoder.conv1.weight" && !t.shape.empty()) in.request.vae_width = t.shape[0] / official;
    }
  }
  if (request.height < in.request.token_stride() || request.width < in.request.token_stride()) {
    return absl::InvalidArgumentError(absl::StrCat("request: height and width must be at least ",
                                                   in.request.token_stride(), " with the ",
                                                   io::VaeKindName(in.request.vae), " VAE"));
  }
  in.budgets = budgets;
  return in;
}

// MakePlan; `suggest_frames` adds the largest fitting frame count to a refusal.
absl::StatusOr<Plan> PlanFor(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets,
                             bool suggest_frames) {
  ASSIGN_OR_RETURN(const PlanInputs in, Inputs(headers, request, budgets));
  std::optional<Plan> closest;
  std::string closest_short, why;
  uint64_t least_over = ~0ull;
  for (const Candidate& c : Candidates(budgets.gpu_bytes > 0, in.dit_low_noise != nullptr)) {
    Plan plan = Evaluate(c, in);
    const uint64_t over = Shortfall(plan, c, &why);
    if (over == 0) return plan;
    if (over < least_over) {  // the candidate that misses by the least, for the refusal
      least_over = over;
      closest = std::move(plan);
      closest_short = why;
    }
  }
  return Refusal(headers, request, budgets, *closest, closest_short, suggest_frames);
}

}  // namespace

absl::StatusOr<Plan> MakePlan(const ModelHeaders& headers, const RequestShape& request, const Budgets& budgets) {
  return PlanFor(headers, request, budgets, /*suggest_frames=*/true);
}

absl::StatusOr<Plan> MakeServingPlan(const ModelHeaders& headers, const RequestShape& request,
                                     const Budgets& budgets) {
  absl::StatusOr<Plan> planned = MakePlan(headers, request, budgets);
  if (planned.ok() || planned.status().code() != absl::StatusCode::kFailedPrecondition) return planned;
  ASSIGN_OR_RETURN(const PlanInputs in, Inputs(headers, request, budgets));
  const int64_t stride = in.request.token_stride();
  RequestShape smallest = in.request;
  smallest.frames = 1;
  smallest.height = std::max<int64_t>(stride, std::llround(request.height / 8.0 / stride) * stride);
  smallest.width = std::max<int64_t>(stride, std::llround(request.width / 8.0 / stride) * stride);
  std::optional<Plan> best;
  int64_t best_frames = -1;  // frames admitted at the request's size; 0: only the smallest request
  for (const Candidate& c : Candidates(budgets.gpu_bytes > 0, in.dit_low_noise != nullptr)) {
    PlanInputs at = in;
    for (int64_t frames = request.frames - 4; frames >= 1 && frames > best_frames; frames -= 4) {
      at.request.frames = frames;
      Plan plan = Evaluate(c, at);
      if (Fits(plan)) {
        best_frames = frames;
        best = std::move(plan);
        break;
      }
    }
    if (best_frames >= 0) continue;
    at.request = smallest;
    Plan plan = Evaluate(c, at);
    if (Fits(plan)) {
      best_frames = 0;
      best = std::move(plan);
    }
  }
  if (best) return *std::move(best);
  return planned.status();
}

absl::StatusOr<Plan> EvaluateRequest(const ModelHeaders& headers, const Plan& chosen, const RequestShape& request) {
  ASSIGN_OR_RETURN(const PlanInputs in, Inputs(headers, request, chosen.budgets));
  Candidate c;
  c.offload = chosen.offload;
  c.tiling = chosen.vae_tiling;
  for (const ComponentPlan& p : chosen.components) {
    if (p.component == Component::kDit) c.dit = p.placement.precision;
    if (p.component == Component::kT5) c.t5_on_cpu = chosen.budgets.gpu_bytes > 0 && !p.placement.device.is_cuda();
  }
  return Evaluate(c, in);
}

bool Fits(const Plan& plan) {
  return (plan.budgets.gpu_bytes == 0 || plan.peak_vram <= plan.budgets.gpu_bytes) &&
         plan.peak_host <= plan.budgets.host_bytes;
}

std::string FormatPlan(const Plan& p) {
  std::string s = absl::StrFormat("request %dx%d, %d frames (%d tokens, %s VAE), cfg=%s\n", p.request.width,
                                  p.request.height, p.request.frames, p.request.tokens(),
                                  io::VaeKindName(p.request.vae), p.request.cfg ? "yes" : "no");
  absl::StrAppend(&s, absl::StrFormat("budgets: gpu %.2f GiB, host %.2f GiB\n", Gib(p.budgets.gpu_bytes),
                                      Gib(p.budgets.host_bytes)));
  absl::StrAppend(&s, "placement: ", FormatPlacement(p.placement()), "\n");
  for (const ComponentPlan& c : p.components) {
    absl::StrAppend(&s, absl::StrFormat("  %-13s %-7s %-5s resident %.2f GiB\n",
                                        std::string(ComponentName(c.component)), DeviceName(c.placement.device),
                                        std::string(PrecisionName(c.placement.precision)), Gib(c.resident_bytes)));
  }
  absl::StrAppend(&s, "offload: ", std::string(OffloadModeName(p.offload)), ", vae tiling: ", p.vae_tiling ? "on" : "off", "\n");
  if (p.offload == OffloadMode::kEncodersAfterUse && p.budgets.gpu_bytes == 0) {
    absl::StrAppend(&s, "t5: not resident; streamed block by block from its mapped checkpoint for each encoding\n");
  }
  if (p.offload == OffloadMode::kExpertSwap) {
    uint64_t expert = 0;
    for (const ComponentPlan& c : p.components) {
      if (c.component == Component::kDit) expert = c.resident_bytes;
    }
    absl::StrAppend(&s, absl::StrFormat("expert swap: one expert (%.2f GiB) on the GPU at a time, both in pinned host "
                                        "memory; %.2f GiB copied to the GPU per request (each expert once)\n",
                                        Gib(expert), Gib(2 * expert)));
  }
  if (p.budgets.gpu_bytes > 0) {
    absl::StrAppend(&s, absl::StrFormat("peak VRAM %.2f GiB (encode %.2f, denoise %.2f, decode %.2f)\n",
                                        Gib(p.peak_vram), Gib(p.vram_encode), Gib(p.vram_denoise), Gib(p.vram_decode)));
  }
  absl::StrAppend(&s, absl::StrFormat("peak host RAM %.2f GiB\n", Gib(p.peak_host)));
  return s;
}

}  // namespace videogen::memory
