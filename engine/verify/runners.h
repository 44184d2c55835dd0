// One runner per fixture component: builds the component from fixture.json's
// `config`, loads its weights, feeds the inputs and returns the outputs under
// the fixture's output names. Nothing about a particular fixture is assumed.
#pragma once

#include "absl/status/statusor.h"
#include "engine/quant/fp8_tensor.h"
#include "engine/pipeline/wan_pipeline.h"
#include "engine/verify/fixture.h"

namespace videogen::verify {

// kBf16: the DiT, T5 and CLIP hold bfloat16 parameters and compute in bfloat16
// (the VAE, schedulers and tokenizer stay as for kFp32).
enum class WeightDType { kFp32, kFp8, kBf16 };

// videogen-verify --offload: how a pipeline fixture's weights are held and
// moved while it runs (engine/pipeline/offload_executor.h), on the run's
// device through its copy engine: kNone resident; kEncodersAfterUse T5 and
// CLIP on the device only while encoding, the DiT only from denoising on;
// kDitBlockStreaming the DiT's blocks streamed through two staging slots;
// kExpertSwap (expert pairs only) one expert on the device at a time;
// kT5Streamed T5 streamed block by block from its checkpoint (the host-only
// plans' encoders-after-use). Other fixtures ignore it.
enum class OffloadRun { kNone, kEncodersAfterUse, kDitBlockStreaming, kExpertSwap, kT5Streamed };
inline constexpr OffloadRun kOffloadRuns[] = {OffloadRun::kNone, OffloadRun::kEncodersAfterUse,
                                              OffloadRun::kDitBlockStreaming, OffloadRun::kExpertSwap,
                                              OffloadRun::kT5Streamed};
// "none", "encoders-after-use", "dit-block-streaming", "expert-swap", "t5-streamed".
const char* OffloadRunName(OffloadRun run);

struct RunOptions {
  // kFp8: quantize the linear weights (the fp8 policy) before running; kFp8
  // and kBf16: the caller reports the error instead of judging it by fp32
  // tolerances.
  WeightDType weight_dtype = WeightDType::kFp32;
  // Where the components are loaded and run (cpu or cuda:N); inputs are moved
  // there and outputs back to the CPU. Schedulers and the tokenizer always
  // run on the CPU (they have no device).
  torch::Device device = torch::kCPU;
  // How high-precision weights become fp8 when weight_dtype is kFp8.
  quant::Fp8Scaling fp8_scaling = quant::Fp8Scaling::kPerTensor;
  // Pipeline fixtures only. InvalidArgument naming `offload` for kExpertSwap
  // on a fixture without an expert pair.
  OffloadRun offload = OffloadRun::kNone;
};

// Parameter and compute dtype of the DiT, T5 and CLIP for `options`:
// bfloat16 for kBf16, float32 otherwise (fp8 weights compute in float32);
// the VAE's causal convolutions' dtype (WanVaeOptions::conv_dtype).
inline torch::ScalarType ParamDType(const RunOptions& options) {
  return options.weight_dtype == WeightDType::kBf16 ? torch::kBFloat16 : torch::kFloat32;
}

// component: dit, dit22 (the Wan2.2 WanModel: per-token timesteps, no image
// cross-attention), or dit_lora (the `loras` merged into the base weights at
// load, in order; also returns `merged.<name>` for `merged_outputs`).
absl::StatusOr<TensorMap> RunDitFixture(const Fixture& fixture, const RunOptions& options);
absl::StatusOr<TensorMap> RunT5Fixture(const Fixture& fixture, const RunOptions& options);
absl::StatusOr<TensorMap> RunTokenizerFixture(const Fixture& fixture, const RunOptions& options);
absl::StatusOr<TensorMap> RunClipFixture(const Fixture& fixture, const RunOptions& options);
// component: vae_encode / vae_decode (Wan2.1 VAE) or vae22_encode /
// vae22_decode (Wan2.2 VAE).
absl::StatusOr<TensorMap> RunVaeEncodeFixture(const Fixture& fixture, const RunOptions& options);
absl::StatusOr<TensorMap> RunVaeDecodeFixture(const Fixture& fixture, const RunOptions& options);
// component: scheduler_unipc, scheduler_dpmpp or scheduler_euler.
absl::StatusOr<TensorMap> RunSchedulerFixture(const Fixture& fixture, const RunOptions& options);
// component: pipeline_t2v, pipeline_i2v, pipeline_flf2v (the DiT's
// model_type must fit it), or Wan2.2's pipeline_ti2v, pipeline_t2v_a14b,
// pipeline_i2v_a14b (an expert pair: weights dit_high_noise + dit_low_noise,
// config.boundary, guide_scale [low, high]).
// The tiny components of a pipeline fixture, built from config.dit /
// config.t5 / config.vae / config.clip (image models) and its `weights` map.
// With kFp8 the DiT holds fp8 weights (the fp8 policy is DiT-only); the
// encoders and the VAE stay float32. InvalidArgument / NotFound naming the
// fixture and the missing config section or file.
absl::StatusOr<pipeline::WanPipelineParts> LoadPipelineParts(const Fixture& fixture, const RunOptions& options);

absl::StatusOr<TensorMap> RunPipelineFixture(const Fixture& fixture, const RunOptions& options);

// The official WanModel the fixture was generated with: Wan2.2 for fixtures
// of the Wan2.2 repository (generated_from.repository) and dit22 components.
models::WanVersion DitVersion(const Fixture& fixture);

}  // namespace videogen::verify
