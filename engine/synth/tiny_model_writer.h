// Writes the embedded default model: the real Wan2.1 architecture (DiT, umT5 +
// its tokenizer, CLIP visual tower, VAE) at a tiny size, with weights generated
// deterministically from a seed and written in the OFFICIAL file layout
// (config.json, diffusion_pytorch_model.safetensors, the .pth files,
// google/umt5-xxl/spiece.model, plus videogen.json for the tiny encoder
// sizes), so it is loaded by exactly the code real checkpoints use.
// Its weights are random: it produces noise-like videos.
//
// Only the videogen-make-tiny executable (engine/synth/exe), tests and tools
// link this; the server finds or makes the model through
// pipeline::EnsureTinyModel (engine/pipeline/tiny_model.h), which runs that
// executable.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "engine/pipeline/tiny_model.h"

namespace videogen::synth {

// Writes the model of `options.type` and `options.seed` into `dir` (created;
// existing files are replaced), training its tokenizer with
// `options.spm_train`; `options.make_tiny` is not used.
// Errors: Internal when a file cannot be written; FailedPrecondition when
// spm_train cannot be run.
absl::Status WriteTinyModel(const std::string& dir, const pipeline::TinyModelOptions& options);

// Trains the tiny models' SentencePiece tokenizer (vocabulary ~400 pieces,
// pad 0, eos 1, unk 2) into `dir`/google/umt5-xxl/spiece.model with
// `spm_train`. FailedPrecondition when spm_train fails; Internal on I/O errors.
absl::Status TrainTinyTokenizer(const std::string& dir, const std::string& spm_train);

// The text the tokenizer is trained on (engine/synth/tiny_corpus.cc).
extern const char kTinyTokenizerCorpus[];

}  // namespace videogen::synth
