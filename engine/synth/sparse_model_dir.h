// Official Wan2.2 model directories with real tensor names, shapes and dtypes
// and no data (file holes: sparse files), for planning tests, benches and
// `videogen-plan` without downloading the weights.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace videogen::synth {

enum class SparseModel {
  kI2V14B,   // Wan2.1-I2V-14B-480P (loadable: see WriteSparseModelDir)
  kT2VA14B,  // Wan2.2-T2V-A14B
  kI2VA14B,  // Wan2.2-I2V-A14B
  kTI2V5B,   // Wan2.2-TI2V-5B
};
// "i2v-14b", "t2v-a14b", "i2v-a14b", "ti2v-5b".
const char* SparseModelName(SparseModel model);
// The inverse of SparseModelName; nullopt for other names.
std::optional<SparseModel> ParseSparseModel(std::string_view name);

// Writes `model`'s official layout (engine/io/model_dir.h) into `dir`
// (created if absent):
//   A14B: high_noise_model/ and low_noise_model/, each with config.json and
//         the expert in 6 float32 shards + index (as distributed: ~57 GB each);
//   TI2V-5B: config.json and the DiT in float32 shards + index (~20 GB);
//   models_t5_umt5-xxl-enc-bf16.safetensors (bfloat16) and
//   Wan2.1_VAE.safetensors (A14B) or Wan2.2_VAE.safetensors (TI2V-5B)
//   (float32): `.safetensors` stand-ins of the official `.pth` files, which
//   readers of headers accept (io::FindModelFilesOptions::headers_only).
// No tokenizer is written: the directory is for reading headers, not for
// loading. Less than 1 MB is allocated on disk. Internal on I/O errors
// (naming the file).
//   I2V-14B (Wan2.1-I2V-14B-480P) is written to be LOADED and served, in the
//   official file formats: config.json and the DiT in 7 float32 shards +
//   index (~66 GB), models_t5_umt5-xxl-enc-bf16.pth (bfloat16, 11.4 GB),
//   models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth (the visual tower
//   the pipeline reads, float16) and Wan2.1_VAE.pth (float32) as torch.save
//   zips (WriteSparsePth), plus a tiny SentencePiece tokenizer trained with
//   `spm_train` (the real umT5 vocabulary is not needed: ids stay in range).
//   All data reads as zeros. FailedPrecondition when spm_train fails.
absl::Status WriteSparseModelDir(const std::string& dir, SparseModel model, const std::string& spm_train = "spm_train");

}  // namespace videogen::synth
