// The generator interface: the only part of the engine that server/jobs sees.
// A VideoGenerator turns one request into RGB frames, reporting progress and
// honouring cooperative cancellation. Deliberately free of LibTorch types, so
// the serving layer (and its fakes) compile without LibTorch headers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/cancellation.h"  // header-only
#include "engine/common/model_types.h"   // header-only

namespace videogen::pipeline {

// kFLF2V: first-last-frame-to-video (an image and a last frame, 81 frames);
// kTI2V: Wan2.2 TI2V (text-to-video, or image-to-video when an image is given).
enum class ModelType { kT2V, kI2V, kFLF2V, kTI2V };
// kStepDistill: the few-step sampler of step-distilled models and LoRAs
// (an explicit timestep list such as 1000, 750, 500, 250; see
// engine/schedulers/step_distill_scheduler.h).
enum class Sampler { kUniPC, kDpmPP, kEuler, kStepDistill };
// The stages of a job, in order. Generators report the first four; the
// server reports kVideoEncoding while it encodes the generated frames.
enum class Stage { kTextEncoding, kImageEncoding, kDenoising, kVaeDecoding, kVideoEncoding };

// Which DiT a denoising step runs: the model's only one, or one of a Wan2.2
// A14B high-noise / low-noise expert pair.
enum class Expert { kSingle, kHighNoise, kLowNoise };

// "t2v"/"i2v"/"flf2v"/"ti2v", "text_encoding"/..., ""/"high_noise"/"low_noise"
// (for logs, metrics labels and ListModels).
const char* ModelTypeName(ModelType type);
const char* StageName(Stage stage);
const char* ExpertName(Expert expert);

// Interleaved 8-bit RGB, row-major: rgb.size() == width * height * 3.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

// A per-request adapter: a LoRA loaded at start under `name`, applied as a
// side path at `strength` (ModelDescription::adapters lists them).
struct AdapterUse {
  std::string name;
  double strength = 1.0;
};

// What to generate. Fields left unset take the model's defaults
// (ModelDescription::defaults).
struct GenerationRequest {
  std::string prompt;
  std::optional<std::string> negative_prompt;  // unset: the model's default negative prompt
  std::optional<RgbImage> image;               // required for i2v and flf2v (the first frame), optional for
                                               // ti2v (latent frame 0), rejected for t2v
  std::optional<RgbImage> last_image;          // required for flf2v (the last frame), rejected otherwise
  std::optional<int> width;                    // t2v (and ti2v without an image) output size, multiples of 16
  std::optional<int> height;
  std::optional<int64_t> max_area;             // i2v, flf2v, ti2v with an image: output area, keeping the image aspect
  std::optional<int> num_frames;               // 4n + 1
  std::optional<int> steps;
  std::optional<double> guidance_scale;
  std::optional<double> shift;
  std::optional<Sampler> sampler;
  // Explicit timesteps, strictly decreasing in [1, 1000] (few-step sampling):
  // they imply the step-distill sampler and steps = their count. Empty: the
  // model's default list (if it has one) or `steps` evenly spaced.
  std::vector<int> timesteps;
  // Per-request adapters, applied in order beside the resident weights.
  std::vector<AdapterUse> adapters;
  uint64_t seed = 0;                           // the caller chooses it when the client did not
};

// Defaults and limits a model applies to requests.
struct GenerationDefaults {
  int width = 832;
  int height = 480;
  int64_t max_area = 832 * 480;
  int num_frames = 81;
  int steps = 50;
  double guidance_scale = 5.0;
  double shift = 5.0;
  Sampler sampler = Sampler::kUniPC;
  std::vector<int> timesteps;  // step-distilled models: e.g. {1000, 750, 500, 250}
  double fps = 16.0;
  std::string negative_prompt;
  // Wan2.2 A14B expert pairs: the high-noise expert's guidance scale
  // (guidance_scale is then the low-noise expert's; a request's guidance_scale
  // sets both, as a single official guide_scale does) and the boundary: steps
  // whose timestep t >= expert_boundary * 1000 run the high-noise expert.
  // Unset / 0 for one-DiT models.
  std::optional<double> guidance_scale_high_noise;
  double expert_boundary = 0;
};

// Bytes of resident weights of one component in one dtype on one device.
struct ResidentGroup {
  Component component = Component::kDit;
  Precision dtype = Precision::kFp32;  // label: StorageDTypeName (fp8_e4m3fn, bf16, fp16, fp32)
  Device device;
  uint64_t bytes = 0;
};

// The memory plan the model was loaded with (see engine/memory).
struct PlanSummary {
  OffloadMode offload_mode = OffloadMode::kNone;
  std::map<Device, uint64_t> predicted_peak;  // device -> bytes
  std::string summary;                        // one human-readable paragraph
};

// An adapter loaded at start that requests may select (AdapterUse).
struct LoadedAdapter {
  std::string name;
  uint64_t bytes = 0;  // its tensors, held on the host
};

// The largest requests a model admits (per-request admission against its
// memory plan), around its defaults. 0: not even the smallest.
struct AdmissionLimits {
  int max_frames = 0;    // at the default size
  int64_t max_area = 0;  // at the default frame count and aspect
};

struct ModelDescription {
  std::string id;          // what requests name in `model`
  ModelType type = ModelType::kT2V;
  std::string variant;     // T2V-1.3B, I2V-14B-480P, tiny, ...
  std::string description;
  GenerationDefaults defaults;
  std::vector<ResidentGroup> resident;
  std::vector<LoadedAdapter> adapters;
  PlanSummary plan;
  AdmissionLimits admitted;
};

// Memory figures of one device as the generator sees it: on CUDA from the
// driver and the caching allocator; on CPU from the process (RSS) and the host.
struct DeviceMemoryStats {
  Device device;
  uint64_t used = 0;
  uint64_t total = 0;
  uint64_t peak = 0;
};

struct ProgressUpdate {
  Stage stage = Stage::kTextEncoding;
  int step = 0;         // steps done in this stage
  int total_steps = 0;  // steps of this stage
  // kDenoising of an expert-pair model: the expert of the step just done.
  Expert expert = Expert::kSingle;
};

// Receives progress on the generating thread; must not block for long.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void OnProgress(const ProgressUpdate& update) = 0;
};

struct GeneratedVideo {
  int width = 0;
  int height = 0;
  int frames = 0;
  double fps = 0;
  std::vector<uint8_t> rgb;  // frames * height * width * 3, frame-major RGB
  uint64_t seed = 0;
};

// Thread safety: description() and Validate() may be called from any thread
// at any time; Generate() and ReleaseCachedMemory() are called by one thread
// at a time (the owning worker).
class VideoGenerator {
 public:
  virtual ~VideoGenerator() = default;

  virtual const ModelDescription& description() const = 0;

  // Checks a request against the model without running it: InvalidArgument
  // whose message names the field (`num_frames`, `width`, `image`, ...) and
  // the allowed range. A guidance_scale of exactly 1 runs one DiT pass per
  // step (no unconditional pass).
  virtual absl::Status Validate(const GenerationRequest& request) const = 0;

  // Runs a validated request. Errors: InvalidArgument (as Validate),
  // Cancelled / DeadlineExceeded from `cancel` (checked between denoising
  // steps and VAE chunks), ResourceExhausted on out-of-memory (the generator
  // stays usable), Internal otherwise. `progress` may be null.
  // Conditioning ends before the first kDenoising update: from that update on
  // (also from within OnProgress) the caller may free the pixels of
  // request.image and request.last_image; the generator no longer reads them.
  virtual absl::StatusOr<GeneratedVideo> Generate(const GenerationRequest& request,
                                                  ProgressSink* progress,
                                                  const CancelToken& cancel) = 0;

  // Memory of every device the generator uses.
  virtual std::vector<DeviceMemoryStats> DeviceMemory() const = 0;
  // The weights resident now, per component, dtype and device (offload
  // executors change them during requests). Default: the figures at load.
  virtual std::vector<ResidentGroup> ResidentNow() const { return description().resident; }

  // Returns cached allocator memory to the device (after an out-of-memory).
  virtual void ReleaseCachedMemory() {}

  // Called once on each worker thread with that thread's whole loop (warm-up
  // and every Generate call): enters the per-thread state the generator needs
  // (LibTorch's thread-local InferenceMode and device guard) and calls `loop`
  // exactly once. Default: calls `loop`.
  virtual void RunWorkerLoop(const std::function<void()>& loop) { loop(); }
};

}  // namespace videogen::pipeline
