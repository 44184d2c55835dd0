// WanModel: the Wan2.1 diffusion transformer (t2v / i2v / flf2v) and the Wan2.2
// one (per-token timesteps; t2v / i2v without CLIP / ti2v), with the
// official parameter names so that checkpoints load 1:1 (freqs are recomputed,
// not stored).
#pragma once

#include <optional>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "engine/models/dit/attention_block.h"
#include "engine/models/dit/config.h"
#include "engine/models/dit/layers.h"

namespace videogen::models {

// Time embedding: nn.Sequential(Linear, SiLU, Linear) -> children "0", "2".
class TimeEmbeddingImpl : public torch::nn::Module {
 public:
  TimeEmbeddingImpl(int64_t in, int64_t dim, quant::ParamInit init = quant::ParamInit::kRandom);
  // x: [B, in] -> [B, dim]
  torch::Tensor forward(const torch::Tensor& x);

 private:
  quant::QuantLinear fc0_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(TimeEmbedding);

// Head: modulation [1, 2, dim] + LayerNorm + Linear "head".
class HeadImpl : public torch::nn::Module {
 public:
  explicit HeadImpl(const WanConfig& config, quant::ParamInit init = quant::ParamInit::kRandom);
  // x: [B, L, dim]; e.rows: [R, dim] (TimeRows) -> [B, L, prod(patch) * out_dim]
  torch::Tensor forward(const torch::Tensor& x, const TimeRows& e);
  torch::Tensor modulation;

 private:
  double eps_;
  quant::QuantLinear head_{nullptr};
};
TORCH_MODULE(Head);

// MLPProj "img_emb": proj = (LayerNorm(1280), Linear, GELU, Linear, LayerNorm(dim)); flf2v adds emb_pos.
class MLPProjImpl : public torch::nn::Module {
 public:
  MLPProjImpl(int64_t in_dim, int64_t out_dim, bool flf_pos_emb);
  // image_embeds: [B, N, in_dim] -> [B, N, out_dim] (flf2v: [B, 2N, .] pairs folded first)
  torch::Tensor forward(const torch::Tensor& image_embeds);

 private:
  torch::nn::Sequential proj_{nullptr};
  torch::Tensor emb_pos_;
};
TORCH_MODULE(MLPProj);

struct WanInputs {
  std::vector<torch::Tensor> x;        // each [C_in, F, H, W]
  // [B] timesteps (any numeric dtype); Wan2.2 also [B, seq_len]: one per token
  // (padding included), as TI2V's frame-0 tokens at t = 0.
  torch::Tensor t;
  std::vector<torch::Tensor> context;  // each [L_i, text_dim], L_i <= text_len
  int64_t seq_len = 0;                 // pad length; >= every sample's token count
  std::optional<torch::Tensor> clip_fea;   // Wan2.1 i2v / flf2v: [B, N_img, 1280]
  std::vector<torch::Tensor> y;            // i2v / flf2v: each [C_y, F, H, W]
};

// Called by WanModelImpl::forward around each attention block (offload
// executors stage the block's weights on the device: engine/pipeline/
// offload_block_streamer.h). Runs on the thread calling forward(); may throw
// c10::Error, which propagates out of forward().
class BlockObserver {
 public:
  virtual ~BlockObserver() = default;
  virtual void BeforeBlock(int64_t index) = 0;
  virtual void AfterBlock(int64_t index) = 0;
};

// Every linear layer is a quant::QuantLinear, so LoadStateDict with
// LoadOptions::fp8 can hold the block weights in fp8 (engine/quant/policy.h);
// `init` kUninitialized skips their random initialisation (for models loaded
// right away: their fp32 weights then never occupy RAM before loading).
class WanModelImpl : public torch::nn::Module {
 public:
  explicit WanModelImpl(const WanConfig& config, quant::ParamInit init = quant::ParamInit::kRandom);
  // Returns out_i [out_dim, F_i, H_i, W_i] per sample (float32).
  // Preconditions (checked by ValidateInputs): shapes as documented in WanInputs.
  std::vector<torch::Tensor> forward(const WanInputs& inputs);

  const WanConfig& config() const { return config_; }
  // The attention blocks "blocks.<i>", in order.
  const std::vector<WanAttentionBlock>& blocks() const { return block_refs_; }
  // Not owned; must outlive its use by forward(). nullptr (default): none.
  // Not thread-safe: set before forward() runs.
  void set_block_observer(BlockObserver* observer) { block_observer_ = observer; }

 private:
  torch::Tensor Unpatchify(const torch::Tensor& tokens, const std::array<int64_t, 3>& grid) const;

  WanConfig config_;
  torch::nn::Conv3d patch_embedding_{nullptr};
  GeluMlp text_embedding_{nullptr};
  TimeEmbedding time_embedding_{nullptr};
  torch::nn::Sequential time_projection_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<WanAttentionBlock> block_refs_;
  Head head_{nullptr};
  MLPProj img_emb_{nullptr};
  BlockObserver* block_observer_ = nullptr;
};
TORCH_MODULE(WanModel);

// Checks WanInputs against the config: InvalidArgument naming the input
// (x_i channels, context_i width/length, seq_len too small, t neither [B] nor
// (Wan2.2) [B, seq_len], missing clip_fea/y).
absl::Status ValidateInputs(const WanConfig& config, const WanInputs& inputs);

}  // namespace videogen::models
