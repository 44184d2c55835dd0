#include "engine/text/umt5_tokenizer.h"

#include <algorithm>
#include <utility>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/text/spm_library.h"

namespace videogen::text {

UmT5Tokenizer::UmT5Tokenizer(std::unique_ptr<SpmModel> model, const TokenizerOptions& options)
    : model_(std::move(model)), options_(options) {
  vocab_size_ = model_->piece_size();
  pad_id_ = model_->pad_id();
  eos_id_ = model_->eos_id();
  unk_id_ = model_->unk_id();
}

UmT5Tokenizer::~UmT5Tokenizer() = default;

absl::StatusOr<std::unique_ptr<UmT5Tokenizer>> UmT5Tokenizer::Create(const std::string& spiece_model_path,
                                                                     const TokenizerOptions& options) {
  if (options.seq_len < 1) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer: seq_len must be >= 1, got ", options.seq_len));
  }
  const std::string shim = options.spm_shim_path.empty() ? SpmLibrary::DefaultPath() : options.spm_shim_path;
  ASSIGN_OR_RETURN(std::unique_ptr<SpmModel> model, SpmModel::Open(spiece_model_path, shim));
  std::unique_ptr<UmT5Tokenizer> tokenizer(new UmT5Tokenizer(std::move(model), options));
  for (const auto& [name, id] : {std::pair<const char*, int64_t>{"pad", tokenizer->pad_id_},
                                 {"eos", tokenizer->eos_id_},
                                 {"unk", tokenizer->unk_id_}}) {
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokenizer: SentencePiece model '", spiece_model_path, "' defines no ", name, " piece"));
    }
  }
  return tokenizer;
}

absl::StatusOr<std::vector<int64_t>> UmT5Tokenizer::EncodePieces(const std::string& text) const {
  ASSIGN_OR_RETURN(const std::string cleaned, CleanText(text, options_.clean));
  ASSIGN_OR_RETURN(const std::vector<int32_t> pieces, model_->Encode(cleaned));
  // The HF fast tokenizer (Unigram with fuse_unk) emits one <unk> for a run of
  // unknown characters.
  std::vector<int64_t> ids;
  ids.reserve(pieces.size());
  for (const int32_t id : pieces) {
    if (id == unk_id_ && !ids.empty() && ids.back() == unk_id_) continue;
    ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<TokenizedBatch> UmT5Tokenizer::Encode(const std::vector<std::string>& texts) const {
  const int64_t n = static_cast<int64_t>(texts.size());
  const int64_t len = options_.seq_len;
  at::Tensor ids = at::full({n, len}, pad_id_, at::kLong);
  at::Tensor mask = at::zeros({n, len}, at::kLong);
  int64_t* ids_data = ids.data_ptr<int64_t>();
  int64_t* mask_data = mask.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    absl::StatusOr<std::vector<int64_t>> pieces = EncodePieces(texts[i]);
    if (!pieces.ok()) {
      return absl::Status(pieces.status().code(),
                          absl::StrCat("text ", i, ": ", std::string(pieces.status().message())));
    }
    const int64_t kept = std::min<int64_t>(static_cast<int64_t>(pieces->size()), len - 1);
    int64_t* row = ids_data + i * len;
    std::copy(pieces->begin(), pieces->begin() + kept, row);
    row[kept] = eos_id_;
    std::fill(mask_data + i * len, mask_data + i * len + kept + 1, int64_t{1});
  }
  return TokenizedBatch{std::move(ids), std::move(mask)};
}

std::string UmT5Tokenizer::IdToPiece(int64_t id) const {
  if (id < 0 || id >= vocab_size_) return "";
  return model_->IdToPiece(static_cast<int32_t>(id));
}

}  // namespace videogen::text
