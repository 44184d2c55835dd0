#include "engine/models/dit/model.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

#include "absl/strings/str_cat.h"

namespace videogen::models {

TimeEmbeddingImpl::TimeEmbeddingImpl(int64_t in, int64_t dim, quant::ParamInit init) {
  fc0_ = register_module("0", quant::QuantLinear(in, dim, init));
  fc2_ = register_module("2", quant::QuantLinear(dim, dim, init));
}

torch::Tensor TimeEmbeddingImpl::forward(const torch::Tensor& x) {
  // x: [B, in]
  return fc2_(at::silu(fc0_(x)));
}

HeadImpl::HeadImpl(const WanConfig& c, quant::ParamInit init) : eps_(c.eps) {
  const int64_t out = c.patch_size[0] * c.patch_size[1] * c.patch_size[2] * c.out_dim;
  head_ = register_module("head", quant::QuantLinear(c.dim, out, init));
  modulation = register_parameter("modulation", torch::zeros({1, 2, c.dim}));
}

torch::Tensor HeadImpl::forward(const torch::Tensor& x, const TimeRows& e) {
  // x: [B, L, dim]; e.rows: [R, dim] -> shift, scale [B, 1 or L, dim]
  const torch::Tensor m = modulation.to(torch::kFloat32) + e.rows.unsqueeze(1);
  return head_(LayerNormNoAffine(x, eps_) * (1 + e.PerToken(m.select(1, 1))) + e.PerToken(m.select(1, 0)));
}

MLPProjImpl::MLPProjImpl(int64_t in_dim, int64_t out_dim, bool flf_pos_emb) {
  proj_ = register_module(
      "proj", torch::nn::Sequential(torch::nn::LayerNorm(torch::nn::LayerNormOptions({in_dim})),
                                    torch::nn::Linear(in_dim, in_dim), torch::nn::GELU(),
                                    torch::nn::Linear(in_dim, out_dim),
                                    torch::nn::LayerNorm(torch::nn::LayerNormOptions({out_dim}))));
  if (flf_pos_emb) emb_pos_ = register_parameter("emb_pos", torch::zeros({1, 257 * 2, in_dim}));
}

torch::Tensor MLPProjImpl::forward(const torch::Tensor& image_embeds) {
  // image_embeds: [B, N, in_dim]
  torch::Tensor x = image_embeds;
  if (emb_pos_.defined()) x = x.view({-1, 2 * x.size(1), x.size(2)}) + emb_pos_;
  return proj_->forward(x);
}

WanModelImpl::WanModelImpl(const WanConfig& c, quant::ParamInit init) : config_(c) {
  patch_embedding_ = register_module(
      "patch_embedding",
      torch::nn::Conv3d(torch::nn::Conv3dOptions(c.in_dim, c.dim, {c.patch_size[0], c.patch_size[1], c.patch_size[2]})
                            .stride({c.patch_size[0], c.patch_size[1], c.patch_size[2]})));
  text_embedding_ = register_module("text_embedding", GeluMlp(c.text_dim, c.dim, c.dim, "tanh", init));
  time_embedding_ = register_module("time_embedding", TimeEmbedding(c.freq_dim, c.dim, init));
  time_projection_ = register_module("time_projection",
                                     torch::nn::Sequential(torch::nn::SiLU(), quant::QuantLinear(c.dim, 6 * c.dim, init)));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) {
    block_refs_.push_back(WanAttentionBlock(c, init));
    blocks_->push_back(block_refs_.back());
  }
  head_ = register_module("head", Head(c, init));
  if (c.has_clip_input()) {
    img_emb_ = register_module("img_emb", MLPProj(1280, c.dim, c.model_type == WanModelType::kFLF2V));
  }
}

absl::Status ValidateInputs(const WanConfig& c, const WanInputs& in) {
  const size_t batch = in.x.size();
  if (batch == 0) return absl::InvalidArgumentError("x: at least one sample is required");
  if (in.context.size() != batch) {
    return absl::InvalidArgumentError(absl::StrCat("context: ", in.context.size(), " entries for ", batch, " samples"));
  }
  const bool per_sample_t = in.t.defined() && in.t.dim() == 1 && in.t.size(0) == static_cast<int64_t>(batch);
  const bool per_token_t = c.version == WanVersion::kWan22 && in.t.defined() && in.t.dim() == 2 &&
                           in.t.size(0) == static_cast<int64_t>(batch) && in.t.size(1) == in.seq_len;
  if (!per_sample_t && !per_token_t) {
    return absl::InvalidArgumentError(absl::StrCat("t: must hold one timestep per sample ([", batch, "])",
                                                   c.version == WanVersion::kWan22
                                                       ? absl::StrCat(" or per token ([", batch, ", ", in.seq_len, "])")
                                                       : std::string()));
  }
  if (c.has_clip_input() && !in.clip_fea) {
    return absl::InvalidArgumentError("clip_fea: required for Wan2.1 i2v / flf2v models");
  }
  if (c.has_y_input() && in.y.size() != batch) {
    return absl::InvalidArgumentError("y: required (one per sample) for i2v / flf2v models");
  }
  const int64_t y_channels = c.has_y_input() ? in.y[0].size(0) : 0;
  for (size_t i = 0; i < batch; ++i) {
    const torch::Tensor& x = in.x[i];
    if (x.dim() != 4 || x.size(0) + y_channels != c.in_dim) {
      return absl::InvalidArgumentError(absl::StrCat("x_", i, ": expected [", c.in_dim - y_channels, ", F, H, W]"));
    }
    if (x.size(1) % c.patch_size[0] != 0 || x.size(2) % c.patch_size[1] != 0 ||
        x.size(3) % c.patch_size[2] != 0) {
      return absl::InvalidArgumentError(absl::StrCat("x_", i, ": F, H, W must be multiples of the patch size"));
    }
    const int64_t tokens = x.size(1) / c.patch_size[0] * (x.size(2) / c.patch_size[1]) * (x.size(3) / c.patch_size[2]);
    if (tokens > in.seq_len) {
      return absl::InvalidArgumentError(absl::StrCat("seq_len: ", in.seq_len, " < sample ", i, "'s ", tokens, " tokens"));
    }
    const torch::Tensor& ctx = in.context[i];
    if (ctx.dim() != 2 || ctx.size(1) != c.text_dim || ctx.size(0) > c.text_len) {
      return absl::InvalidArgumentError(
          absl::StrCat("context_", i, ": expected [L <= ", c.text_len, ", ", c.text_dim, "]"));
    }
    if (c.has_y_input() && (in.y[i].dim() != 4 || in.y[i].sizes().slice(1) != x.sizes().slice(1))) {
      return absl::InvalidArgumentError(absl::StrCat("y_", i, ": must match x_", i, "'s F, H, W"));
    }
  }
  return absl::OkStatus();
}

std::vector<torch::Tensor> WanModelImpl::forward(const WanInputs& in) {
  const int64_t batch = static_cast<int64_t>(in.x.size());
  const int64_t dim = config_.dim;
  const torch::Device device = patch_embedding_->weight.device();
  const torch::ScalarType wdtype = patch_embedding_->weight.scalar_type();

  // Patchify each sample, pad its tokens to seq_len.
  std::vector<std::array<int64_t, 3>> grids;
  std::vector<RopeTables> rope;
  std::vector<torch::Tensor> tokens;
  std::vector<int64_t> lens;
  for (int64_t i = 0; i < batch; ++i) {
    torch::Tensor u = in.x[i];
    if (!in.y.empty()) u = at::cat({u, in.y[i]}, 0);
    const auto& patch = config_.patch_size;
    grids.push_back({u.size(1) / patch[0], u.size(2) / patch[1], u.size(3) / patch[2]});
    u = PatchEmbed(*patch_embedding_, u).unsqueeze(0);  // [1, f*h*w, dim]
    lens.push_back(u.size(1));
    rope.push_back(MakeRopeTables(config_.head_dim(), grids.back(), device));
    tokens.push_back(at::cat({u, at::zeros({1, in.seq_len - u.size(1), dim}, u.options())}, 1));
  }
  torch::Tensor x = at::cat(tokens, 0);
  const torch::Tensor seq_lens = at::tensor(lens, torch::TensorOptions().dtype(torch::kLong).device(device));

  // Time: e [R, dim], e0 [R, 6, dim] in float32, one row per sample or per
  // distinct per-token timestep (TimeRows).
  TimeRows e = DistinctTimesteps(in.t.to(device));
  e.rows = time_embedding_(SinusoidalEmbedding(config_.freq_dim, e.rows).to(torch::kFloat32));
  const TimeRows e0{time_projection_->forward(e.rows).unflatten(1, {6, dim}), e.index};

  // Text context: each zero-padded to text_len rows before the embedding.
  std::vector<torch::Tensor> padded;
  for (const torch::Tensor& u : in.context) {
    const torch::Tensor c = u.to(device, wdtype);
    padded.push_back(at::cat({c, at::zeros({config_.text_len - c.size(0), c.size(1)}, c.options())}, 0));
  }
  torch::Tensor context = text_embedding_(at::stack(padded));
  if (in.clip_fea && !img_emb_.is_empty()) {
    context = at::cat({img_emb_(in.clip_fea->to(device, wdtype)), context}, 1);
  }

  for (size_t i = 0; i < block_refs_.size(); ++i) {
    if (block_observer_ != nullptr) block_observer_->BeforeBlock(static_cast<int64_t>(i));
    x = block_refs_[i](x, e0, seq_lens, rope, context);
    if (block_observer_ != nullptr) block_observer_->AfterBlock(static_cast<int64_t>(i));
  }
  x = head_(x, e);

  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < batch; ++i) out.push_back(Unpatchify(x[i], grids[i]).to(torch::kFloat32));
  return out;
}

torch::Tensor WanModelImpl::Unpatchify(const torch::Tensor& tokens, const std::array<int64_t, 3>& g) const {
  // tokens: [L_pad, p0*p1*p2*c] -> [c, f*p0, h*p1, w*p2]
  const auto& p = config_.patch_size;
  const int64_t c = config_.out_dim;
  torch::Tensor u = tokens.narrow(0, 0, g[0] * g[1] * g[2]).view({g[0], g[1], g[2], p[0], p[1], p[2], c});
  u = u.permute({6, 0, 3, 1, 4, 2, 5});  // fhwpqrc -> cfphqwr
  return u.reshape({c, g[0] * p[0], g[1] * p[1], g[2] * p[2]});
}

}  // namespace videogen::models
