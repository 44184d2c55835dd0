// The embedded default model: the real Wan2.1 (or Wan2.2) architecture at a tiny size with
// random weights from a seed, in the OFFICIAL file layout (see
// engine/synth/tiny_model_writer.h for what is written). This part only finds
// it in the model cache and, when it is missing, has it made by the
// `videogen-make-tiny` executable, so that what links it (the server) does not
// link the checkpoint writers or the tokenizer's training corpus.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

struct TinyModelOptions {
  ModelType type = ModelType::kI2V;
  // A Wan2.2 A14B-style high/low-noise expert pair (t2v or i2v without CLIP,
  // official high_noise_model/ + low_noise_model/ layout). kTI2V is the
  // Wan2.2 TI2V-5B architecture (Wan2.2 VAE); the rest are Wan2.1.
  bool expert_pair = false;
  uint64_t seed = 2025;
  // The SentencePiece trainer (Debian package `sentencepiece`), passed on to
  // videogen-make-tiny as --spm-train.
  std::string spm_train = "spm_train";
  // The videogen-make-tiny executable EnsureTinyModel runs (a path, or a name
  // searched on PATH). Empty (default): the first of
  //   1. videogen-make-tiny beside the running executable (/proc/self/exe),
  //   2. $VIDEOGEN_BINARY_DIR/bin/videogen-make-tiny (a build tree; the test
  //      environment sets VIDEOGEN_BINARY_DIR),
  //   3. videogen-make-tiny on PATH.
  std::string make_tiny;
};

// The tiny model's kind as videogen-make-tiny's --type spells it: "t2v",
// "i2v", "flf2v", "ti2v", "t2v-a14b", "i2v-a14b".
std::string TinyTypeName(const TinyModelOptions& options);
// Sets options->type and options->expert_pair from a TinyTypeName; false for
// an unknown name (or an expert pair of a type that has none).
bool ParseTinyType(const std::string& name, TinyModelOptions* options);

// `cache_dir`/tiny-<TinyTypeName>-<seed> for these options (not checked or made).
std::string TinyModelDir(const std::string& cache_dir, const TinyModelOptions& options);

// Returns TinyModelDir(cache_dir, options), making the model on first use:
// videogen-make-tiny writes it into a temporary directory of `cache_dir`
// that is then renamed into place, so concurrent or interrupted runs never
// leave a partial model. Thread-safe: concurrent callers (threads or
// processes) may each make the model; the first rename wins.
// Errors: FailedPrecondition naming the executable when videogen-make-tiny
// cannot be found or run, or fails (the message carries its output);
// Internal when `cache_dir` cannot be created or the model cannot be moved
// into place.
absl::StatusOr<std::string> EnsureTinyModel(const std::string& cache_dir, const TinyModelOptions& options);

// $VIDEOGEN_CACHE_DIR, else $XDG_CACHE_HOME/videogen, else ~/.cache/videogen.
std::string DefaultCacheDir();

}  // namespace videogen::pipeline
