// The embedded default model: the real Wan2.1 architecture (DiT, umT5 + its
// tokenizer, CLIP visual tower, VAE) at a tiny size, with weights generated
// deterministically from a seed and written in the OFFICIAL file layout
// (config.json, diffusion_pytorch_model.safetensors, the .pth files,
// google/umt5-xxl/spiece.model, plus videogen.json for the tiny encoder
// sizes), so it is loaded by exactly the code real checkpoints use.
// Its weights are random: it produces noise-like videos.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

struct TinyModelOptions {
  ModelType type = ModelType::kI2V;
  uint64_t seed = 2025;
  // The SentencePiece trainer (Debian package `sentencepiece`).
  std::string spm_train = "spm_train";
};

// Writes the model into `dir` (created; existing files are replaced).
// Errors: Internal when a file cannot be written; FailedPrecondition when
// spm_train cannot be run.
absl::Status WriteTinyModel(const std::string& dir, const TinyModelOptions& options);

// `cache_dir`/tiny-<t2v|i2v>-<seed>, written on first use (into a temporary
// directory renamed into place, so concurrent or interrupted runs never leave
// a partial model). Returns its path.
absl::StatusOr<std::string> EnsureTinyModel(const std::string& cache_dir, const TinyModelOptions& options);

// $VIDEOGEN_CACHE_DIR, else $XDG_CACHE_HOME/videogen, else ~/.cache/videogen.
std::string DefaultCacheDir();

extern const char kTinyTokenizerCorpus[];

}  // namespace videogen::pipeline
