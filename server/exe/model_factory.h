// The seam between videogen-server and the models: which VideoGenerator a
// worker gets for `--model` / `--model-dir`. The model owner extends
// CreateGenerator() with the embedded `tiny` model and `--model-dir`; the
// `fake` models are test-only (deterministic frames, no weights) and exist
// only in builds configured with VIDEOGEN_FAKE_MODELS=ON (fake_models.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::server {

// The models `--model` names.
enum class BuiltInModel {
  kTiny,     // "tiny": the embedded default model, i2v
  kTinyT2V,  // "tiny-t2v"
  kTinyFLF2V,  // "tiny-flf2v": first-last-frame-to-video (81 frames)
  kTinyTI2V,      // "tiny-ti2v": Wan2.2 TI2V-5B architecture (image optional)
  kTinyT2VA14B,   // "tiny-t2v-a14b": Wan2.2 T2V-A14B architecture (expert pair)
  kTinyI2VA14B,   // "tiny-i2v-a14b": Wan2.2 I2V-A14B architecture (expert pair)
  kFake,     // "fake": test only, t2v (server/testing/fake_video_generator.h)
  kFakeI2V,  // "fake-i2v": test only
};

// The `--model` value of `model`, also the id the model is served under.
const char* BuiltInModelName(BuiltInModel model);

// Parses a `--model` value. InvalidArgument("model: unknown model ...") for
// any other name, and for the fake models when this build has none.
absl::StatusOr<BuiltInModel> ParseBuiltInModel(absl::string_view name);

struct ModelFlags {
  // The model to serve unless `model_dir` is set.
  BuiltInModel model = BuiltInModel::kTiny;
  // Set: load the model from this directory instead of `model`.
  std::string model_dir;
  // Model-backed generators: --placement ("dit=cuda:0:fp8,t5=cpu:bf16,..."; entries
  // override the memory plan), and the --gpu-memory / --host-memory budgets in
  // bytes (0: from the device and the host).
  std::string placement;
  // --lora PATH[:STRENGTH], repeatable: LoRA files merged into the DiT (of a
  // Wan2.2 pair: the high-noise expert) at load, in order.
  std::vector<std::string> loras;
  // --lora-low-noise PATH[:STRENGTH], repeatable: into a Wan2.2 pair's low-noise expert.
  std::vector<std::string> loras_low_noise;
  // --adapter NAME=PATH, repeatable: LoRAs loaded at start that requests select by name.
  std::vector<std::string> adapters;
  uint64_t gpu_memory = 0;
  uint64_t host_memory = 0;
  // Fake models only: simulated time per denoising step (also the warm-up).
  absl::Duration fake_step_time = absl::ZeroDuration();
  // Fake models only: jobs with this prompt fail with INTERNAL.
  std::string fake_fail_prompt;
};

// One generator for `device` ("cpu", "cuda:0"), weights loaded. Errors:
// InvalidArgument("model: ...") for a fake model in a build without fake
// models, InvalidArgument("placement: ...") for a bad --placement,
// InvalidArgument("lora: ...") for a bad --lora value or LoRA file,
// FailedPrecondition when the memory plan finds that the model does not fit
// (nothing is loaded then), errors of the model loader.
absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateGenerator(const ModelFlags& flags,
                                                                          const std::string& device);

}  // namespace videogen::server
