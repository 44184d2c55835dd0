// The umT5 tokenizer as the reference wraps google/umt5-xxl
// (wan/modules/tokenizers.py HuggingfaceTokenizer, T5TokenizerFast):
//   clean -> SentencePiece Unigram ids (the model's own normalizer, '▁'
//   prefixing; consecutive unknown characters fuse into one <unk>) -> </s>
//   appended -> truncated to seq_len - 1 pieces + </s> -> right-padded with <pad>.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/text/text_clean.h"

namespace videogen::text {

class SpmModel;

struct TokenizerOptions {
  // Output length (HF max_length with padding='max_length', truncation=True).
  // The Wan T5 encoder uses text_len = 512. Must be >= 1.
  int seq_len = 512;
  // Cleaning applied to every text first (the T5 encoder uses kWhitespace).
  TextClean clean = TextClean::kWhitespace;
  // Path of the videogen_spm_shim library; "" = $VIDEOGEN_SPM_SHIM, else the
  // shim built with this tree, else the loader's search path.
  std::string spm_shim_path;
};

struct TokenizedBatch {
  torch::Tensor ids;   // int64 [N, seq_len]: pieces, </s>, then <pad>
  torch::Tensor mask;  // int64 [N, seq_len]: 1 on pieces and </s>, 0 on padding
};

// Thread safety: immutable after Create; Encode() and the accessors are const
// and safe to call concurrently from any thread.
class UmT5Tokenizer {
 public:
  // Loads `spiece_model_path` (a SentencePiece model with pad, eos and unk
  // pieces, e.g. google/umt5-xxl's spiece.model).
  // Errors: NotFound for a missing model file; FailedPrecondition when the
  // SentencePiece shim cannot be loaded (naming its path and dlerror());
  // InvalidArgument for seq_len < 1 or a model without pad/eos/unk pieces;
  // SentencePiece's own code for an unreadable model.
  static absl::StatusOr<std::unique_ptr<UmT5Tokenizer>> Create(const std::string& spiece_model_path,
                                                               const TokenizerOptions& options = {});
  ~UmT5Tokenizer();
  UmT5Tokenizer(const UmT5Tokenizer&) = delete;
  UmT5Tokenizer& operator=(const UmT5Tokenizer&) = delete;

  // Tokenizes every text (UTF-8). InvalidArgument naming the text's index when
  // one is not valid UTF-8.
  absl::StatusOr<TokenizedBatch> Encode(const std::vector<std::string>& texts) const;

  // Piece ids of one text after cleaning: no </s>, no truncation, no padding.
  absl::StatusOr<std::vector<int64_t>> EncodePieces(const std::string& text) const;

  const TokenizerOptions& options() const { return options_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t pad_id() const { return pad_id_; }
  int64_t eos_id() const { return eos_id_; }
  int64_t unk_id() const { return unk_id_; }
  // The piece string of `id` ("" when out of range), e.g. "▁cat".
  std::string IdToPiece(int64_t id) const;

 private:
  UmT5Tokenizer(std::unique_ptr<SpmModel> model, const TokenizerOptions& options);

  // Constant after construction.
  const std::unique_ptr<SpmModel> model_;
  const TokenizerOptions options_;
  int64_t vocab_size_ = 0;
  int64_t pad_id_ = 0;
  int64_t eos_id_ = 1;
  int64_t unk_id_ = 2;
};

}  // namespace videogen::text
