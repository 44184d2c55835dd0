#include "engine/pipeline/text_embedding_cache.h"

#include <utility>

#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"

namespace videogen::pipeline {

torch::Tensor TextEmbeddingCache::Lookup(const std::vector<int64_t>& ids) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(ids);
  if (it == entries_.end()) {
    ++misses_;
    return torch::Tensor();
  }
  ++hits_;
  recency_.splice(recency_.begin(), recency_, it->second.recency);
  return it->second.context;
}

void TextEmbeddingCache::Insert(const std::vector<int64_t>& ids, const torch::Tensor& context) {
  const int64_t nbytes = static_cast<int64_t>(context.numel()) * static_cast<int64_t>(context.element_size());
  if (nbytes > max_bytes_) return;
  {
    absl::MutexLock lock(&mu_);
    if (entries_.count(ids) != 0) return;
  }
  // The copy is made outside the lock: it owns its storage (a context is
  // often a view of a whole padded batch) and lives on the CPU.
  torch::Tensor stored = context.to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true).contiguous();
  absl::MutexLock lock(&mu_);
  if (entries_.count(ids) != 0) return;
  recency_.push_front(ids);
  entries_.emplace(ids, Entry{std::move(stored), recency_.begin()});
  bytes_ += nbytes;
  while (bytes_ > max_bytes_) {
    auto victim = entries_.find(recency_.back());
    bytes_ -= static_cast<int64_t>(victim->second.context.numel()) *
              static_cast<int64_t>(victim->second.context.element_size());
    entries_.erase(victim);
    recency_.pop_back();
  }
}

int64_t TextEmbeddingCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t TextEmbeddingCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

int64_t TextEmbeddingCache::hits() const {
  absl::MutexLock lock(&mu_);
  return hits_;
}

int64_t TextEmbeddingCache::misses() const {
  absl::MutexLock lock(&mu_);
  return misses_;
}

absl::StatusOr<std::vector<torch::Tensor>> EncodeTextsCached(const models::T5EncoderModel& encoder,
                                                             TextEmbeddingCache* cache,
                                                             const std::vector<std::string>& texts) {
  if (cache == nullptr || cache->max_bytes() == 0) return encoder.Encode(texts);
  ASSIGN_OR_RETURN(const text::TokenizedBatch batch, encoder.tokenizer().Encode(texts));
  // Each text's key: its ids up to the end of its mask (pieces and </s>).
  std::vector<std::vector<int64_t>> keys(texts.size());
  RETURN_IF_ERROR(TorchCall("text cache keys", [&] {
    const torch::Tensor ids = batch.ids.to(torch::kCPU, torch::kLong).contiguous();
    const torch::Tensor lens = batch.mask.gt(0).sum(1).to(torch::kCPU, torch::kLong);
    for (size_t i = 0; i < texts.size(); ++i) {
      const int64_t* row = ids[static_cast<int64_t>(i)].data_ptr<int64_t>();
      keys[i].assign(row, row + lens[static_cast<int64_t>(i)].item<int64_t>());
    }
  }));
  std::vector<torch::Tensor> out(texts.size());
  std::vector<int64_t> missing;
  for (size_t i = 0; i < texts.size(); ++i) {
    out[i] = cache->Lookup(keys[i]);
    if (!out[i].defined()) missing.push_back(static_cast<int64_t>(i));
  }
  if (missing.empty()) return out;
  text::TokenizedBatch misses;
  RETURN_IF_ERROR(TorchCall("text cache", [&] {
    const torch::Tensor rows = torch::tensor(missing, torch::TensorOptions().dtype(torch::kLong));
    misses.ids = batch.ids.index_select(0, rows);
    misses.mask = batch.mask.index_select(0, rows);
  }));
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> encoded, encoder.EncodeIds(misses.ids, misses.mask));
  for (size_t j = 0; j < missing.size(); ++j) {
    const size_t i = static_cast<size_t>(missing[j]);
    out[i] = encoded[j];
    RETURN_IF_ERROR(TorchCall("text cache", [&] { cache->Insert(keys[i], encoded[j]); }));
  }
  return out;
}

}  // namespace videogen::pipeline
