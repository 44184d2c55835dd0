// Tensor names, shapes and dtypes of the official Wan2.1 checkpoints, taken
// from our modules (which mirror the official names 1:1), for synthetic
// checkpoints in benches and planner tests. Building a list allocates the
// module without touching its weights where the module allows (DiT, T5,
// CLIP); the VAE (~0.5 GB) is initialised.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/synth/synthetic_checkpoint.h"
#include "engine/models/dit/config.h"

namespace videogen::bench {

// The DiT's state dict as stored by the official files (float32).
std::vector<synth::SyntheticTensor> DitTensors(const models::WanConfig& config);
// umT5-XXL encoder, bfloat16 (models_t5_umt5-xxl-enc-bf16.pth).
std::vector<synth::SyntheticTensor> T5XxlTensors();
// The visual tower of open-clip xlm-roberta-large vit-huge-14 under "visual."
// (float32): the part the pipeline loads; the text tower is not generated.
std::vector<synth::SyntheticTensor> ClipVisualTensors();
// Wan2.1_VAE (float32).
std::vector<synth::SyntheticTensor> VaeTensors();

// Writes the I2V-14B-480P model directory with real geometry as sparse files
// (data left as holes): config.json, the DiT in 7 shards + index, and the
// encoders as `<official stem>.safetensors` stand-ins (the planner reads the
// headers of either). Returns `dir`. Errors from the writer.
absl::StatusOr<std::string> WriteSparseI2V14B(const std::string& dir);

}  // namespace videogen::bench
