// The seam between videogen-server and the models: which VideoGenerator a
// worker gets for `--model` / `--model-dir`. The model owner extends
// CreateGenerator() with the embedded `tiny` model and `--model-dir`; the
// `fake` models are test-only (deterministic frames, no weights).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::server {

struct ModelFlags {
  // "tiny" (the embedded default model, i2v), "tiny-t2v", or, for tests only, "fake" (t2v) /
  // "fake-i2v" (server/testing/fake_video_generator.h).
  std::string model = "tiny";
  // Set: load the model from this directory instead of `model`.
  std::string model_dir;
  // Model-backed generators: --placement ("dit=cuda:0:fp8,t5=cpu:bf16,..."; entries
  // override the memory plan), and the --gpu-memory / --host-memory budgets in
  // bytes (0: from the device and the host).
  std::string placement;
  uint64_t gpu_memory = 0;
  uint64_t host_memory = 0;
  // Fake models only: simulated time per denoising step (also the warm-up).
  absl::Duration fake_step_time = absl::ZeroDuration();
  // Fake models only: jobs with this prompt fail with INTERNAL.
  std::string fake_fail_prompt;
};

// One generator for `device` ("cpu", "cuda:0"), weights loaded. Errors:
// InvalidArgument("model: ...") for an unknown model, InvalidArgument("placement: ...")
// for a bad --placement, FailedPrecondition when the memory plan finds that the
// model does not fit (nothing is loaded then), errors of the model loader.
absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateGenerator(const ModelFlags& flags,
                                                                          const std::string& device);

}  // namespace videogen::server
