// The temporal feature cache of the chunked causal VAE: the reference's
// `feat_cache` list and `feat_idx` cursor (wan/modules/vae.py, CACHE_T = 2).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace videogen::models::vae {

// Number of trailing input frames each causal layer keeps for the next chunk.
inline constexpr int64_t kCacheT = 2;

// One slot per cached layer, handed out in call order within a chunk. A slot
// is empty before the first chunk (the reference's None), holds the 'Rep'
// marker (upsample3d after its first chunk) or the cached frames.
// Not thread-safe: one cache per video (or decode tile) being processed.
class FeatCache {
 public:
  struct Slot {
    enum class State { kEmpty, kRep, kTensor };
    State state = State::kEmpty;
    torch::Tensor value;  // [B, C, t <= kCacheT, H, W] when state == kTensor

    bool empty() const { return state == State::kEmpty; }
    bool rep() const { return state == State::kRep; }
    bool has_tensor() const { return state == State::kTensor; }
    void SetRep() {
      state = State::kRep;
      value = torch::Tensor();
    }
    void Set(torch::Tensor t) {
      state = State::kTensor;
      value = std::move(t);
    }
  };

  // Starts a chunk: the next Next() returns the first slot (feat_idx = [0]).
  void Rewind() { cursor_ = 0; }

  // The slot of the next cached layer (feat_cache[feat_idx]; feat_idx += 1).
  // The reference sizes its list by counting convs; here it grows on demand.
  Slot& Next() {
    if (cursor_ == slots_.size()) slots_.emplace_back();
    return slots_[cursor_++];
  }

  size_t size() const { return slots_.size(); }

 private:
  std::vector<Slot> slots_;
  size_t cursor_ = 0;
};

}  // namespace videogen::models::vae
