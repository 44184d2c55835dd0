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
};

// Parameter and compute dtype of the DiT, T5 and CLIP for `options`:
// bfloat16 for kBf16, float32 otherwise (fp8 weights compute in float32).
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
