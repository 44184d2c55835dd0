// TextEmbeddingCache: the T5 contexts of recently encoded texts, keyed by
// their token ids, so that a constant text -- the model's default negative
// prompt, the warm-up's prompts -- is encoded once per loaded model instead
// of once per request (for umT5-XXL streamed from its file on the CPU, a
// whole pass over 10.6 GiB of weights). A hit returns the tensor the encoder
// returned for the same ids, so outputs are bit-identical by construction.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/models/t5/t5_encoder_model.h"

namespace videogen::pipeline {

// Thread safety: all methods may be called concurrently.
class TextEmbeddingCache {
 public:
  // Holds at most `max_bytes` of context tensors (0 disables the cache).
  explicit TextEmbeddingCache(int64_t max_bytes) : max_bytes_(max_bytes) {}

  // The context stored for `ids` (a text's token ids without padding), or an
  // undefined tensor. A hit makes the entry the most recently used. The
  // returned tensor is shared with the cache: callers must not modify it.
  torch::Tensor Lookup(const std::vector<int64_t>& ids);

  // Stores a copy of `context` (on the CPU, own storage) for `ids`, then
  // evicts least recently used entries until the stored bytes are within
  // max_bytes. A context larger than max_bytes is not stored; an existing
  // entry for `ids` is kept.
  void Insert(const std::vector<int64_t>& ids, const torch::Tensor& context);

  int64_t max_bytes() const { return max_bytes_; }
  int64_t bytes() const;
  size_t size() const;
  int64_t hits() const;
  int64_t misses() const;

 private:
  struct Entry {
    torch::Tensor context;
    std::list<std::vector<int64_t>>::iterator recency;
  };

  // Constant after construction.
  const int64_t max_bytes_;

  mutable absl::Mutex mu_;
  std::map<std::vector<int64_t>, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::vector<int64_t>> recency_ ABSL_GUARDED_BY(mu_);  // most recent first
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

// encoder.Encode(texts) through `cache` (may be null: no caching): the texts
// are tokenized, the ones whose ids are cached are taken from the cache, and
// only the others run through the encoder, in one batch. One context per
// text, [len_i, dim], as T5EncoderModel::Encode; hits are CPU tensors, misses
// on the encoder's device. Errors: T5EncoderModel::Encode's.
absl::StatusOr<std::vector<torch::Tensor>> EncodeTextsCached(const models::T5EncoderModel& encoder,
                                                             TextEmbeddingCache* cache,
                                                             const std::vector<std::string>& texts);

}  // namespace videogen::pipeline
