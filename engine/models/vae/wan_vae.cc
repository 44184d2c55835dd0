#include "engine/models/vae/wan_vae.h"

#include <utility>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/cancel_point.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/vae/causal_conv3d.h"
#include "engine/models/vae/feat_cache.h"
#include "engine/models/vae/latent_scale.h"
#include "engine/models/vae/tiling.h"

namespace videogen::models::vae {
namespace {

std::string Shape(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

// [C] -> [1, C, 1, ..., 1] broadcasting over channels-first x of rank `rank`.
torch::Tensor PerChannel(const torch::Tensor& v, int64_t rank) {
  std::vector<int64_t> shape(rank, 1);
  shape[rank == 5 ? 1 : 0] = v.size(0);
  return v.view(shape);
}

// Calls the progress callback when set.
class Progress {
 public:
  Progress(const VaeProgressFn& fn, int total) : fn_(fn), total_(total) {}
  void Step() {
    ++done_;
    if (fn_) fn_(done_, total_);
  }

 private:
  const VaeProgressFn& fn_;
  int total_;
  int done_ = 0;
};

}  // namespace

WanVae::WanVae(const VaeConfig& config, std::shared_ptr<VaeModule> model, torch::Device device)
    : config_(config), model_(std::move(model)), device_(device) {
  const LatentScale scale = OfficialLatentScale(config_.version);
  mean_ = at::tensor(at::ArrayRef<float>(scale.mean.data(), scale.mean.size()), at::kFloat).to(device_);
  const torch::Tensor std = at::tensor(at::ArrayRef<float>(scale.std.data(), scale.std.size()), at::kFloat);
  inv_std_ = at::reciprocal(std).to(device_);  // `1.0 / std` in the reference
}

absl::StatusOr<std::unique_ptr<WanVae>> WanVae::Create(const io::TensorSource& weights,
                                                       const WanVaeOptions& options) {
  RETURN_IF_ERROR(options.config.Validate());
  const int64_t channels = static_cast<int64_t>(OfficialLatentScale(options.config.version).mean.size());
  if (options.config.z_dim != channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vae config: field 'z_dim' must be ", channels, " for the ",
        options.config.version == VaeVersion::kWan22 ? "Wan2_2_VAE" : "WanVAE",
        " wrapper (its normalisation has ", channels, " channels), got ", options.config.z_dim));
  }
  if (options.conv_dtype != at::kFloat && options.conv_dtype != at::kBFloat16 && options.conv_dtype != at::kHalf) {
    return absl::InvalidArgumentError("vae: conv_dtype must be float32, bfloat16 or float16");
  }
  if (options.conv_dtype == at::kHalf && options.device.is_cpu()) {
    return absl::InvalidArgumentError(
        "vae: conv_dtype float16 runs on CUDA devices only (as every fp16 placement)");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<VaeModule> model, TorchCall("building the VAE", [&] {
                     return MakeVaeModule(options.config);
                   }));
  if (options.conv_dtype == at::kBFloat16 && options.device.is_cpu()) {
    // LibTorch 2.6's CPU bf16 convolution (oneDNN) returns wrong values for
    // input channel counts above 16 that are not multiples of 16 (see
    // PatchEmbed, engine/models/dit/layers.h); the Wan VAEs have none.
    for (const auto& item : model->named_modules()) {
      const auto* conv = dynamic_cast<const CausalConv3dImpl*>(item.value().get());
      const int64_t in = conv != nullptr ? conv->options().in_channels : 0;
      if (in > 16 && in % 16 != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "vae: conv_dtype bfloat16 on the CPU needs every causal convolution's input channels to be <= 16 or a "
            "multiple of 16 (LibTorch's oneDNN bf16 convolution is wrong otherwise); ",
            item.key(), " has ", in));
      }
    }
  }
  LoadOptions load;
  load.device = options.device;
  RETURN_IF_ERROR(LoadStateDict(*model, weights, load));
  std::unique_ptr<WanVae> vae;
  RETURN_IF_ERROR(TorchCall("building the VAE", [&] {
    if (options.conv_dtype != at::kFloat) SetCausalConvDtype(*model, options.conv_dtype);
    model->eval();
    vae.reset(new WanVae(options.config, std::move(model), options.device));
  }));
  return vae;
}

absl::StatusOr<std::unique_ptr<WanVae>> WanVae::Open(const std::string& path,
                                                     const WanVaeOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> source, io::OpenCheckpoint(path));
  return Create(*source, options);
}

absl::Status WanVae::CheckVideo(const torch::Tensor& video, size_t index) const {
  const std::string name = absl::StrCat("videos[", index, "]");
  if (!video.defined()) return absl::InvalidArgumentError(name + ": undefined tensor");
  if (!at::isFloatingType(video.scalar_type())) {
    return absl::InvalidArgumentError(name + ": expected a floating-point tensor");
  }
  if (video.dim() != 4 || video.size(0) != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": expected shape [3, F, H, W] (3 channels), got ", Shape(video)));
  }
  const int64_t frames = video.size(1);
  if (frames < 1 || (frames - 1) % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": frame count ", frames, " is not 1 + 4k"));
  }
  const int64_t stride = config_.spatial_stride();
  if (video.size(2) < 1 || video.size(3) < 1 || video.size(2) % stride != 0 ||
      video.size(3) % stride != 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": height and width must be positive multiples of ",
                                                   stride, ", got ", Shape(video)));
  }
  return absl::OkStatus();
}

absl::Status WanVae::CheckLatent(const torch::Tensor& latent, size_t index) const {
  const std::string name = absl::StrCat("latents[", index, "]");
  if (!latent.defined()) return absl::InvalidArgumentError(name + ": undefined tensor");
  if (!at::isFloatingType(latent.scalar_type())) {
    return absl::InvalidArgumentError(name + ": expected a floating-point tensor");
  }
  if (latent.dim() != 4 || latent.size(0) != config_.z_dim) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": expected shape [", config_.z_dim,
                                                   ", T, h, w] (", config_.z_dim,
                                                   " channels), got ", Shape(latent)));
  }
  if (latent.size(1) < 1 || latent.size(2) < 1 || latent.size(3) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty latent ", Shape(latent)));
  }
  return absl::OkStatus();
}

torch::Tensor WanVae::Normalize(const torch::Tensor& mu) const {
  return (mu - PerChannel(mean_, mu.dim())) * PerChannel(inv_std_, mu.dim());
}

torch::Tensor WanVae::Denormalize(const torch::Tensor& z) const {
  return z / PerChannel(inv_std_, z.dim()) + PerChannel(mean_, z.dim());
}

absl::StatusOr<std::vector<torch::Tensor>> WanVae::Encode(const std::vector<torch::Tensor>& videos,
                                                          const CancelToken* cancel) const {
  return Encode(videos, EncodeOptions{}, cancel);
}

absl::StatusOr<std::vector<torch::Tensor>> WanVae::Encode(const std::vector<torch::Tensor>& videos,
                                                          const EncodeOptions& options,
                                                          const CancelToken* cancel) const {
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> mus, EncodeMu(videos, options, cancel));
  torch::NoGradGuard no_grad;
  for (torch::Tensor& mu : mus) {
    ASSIGN_OR_RETURN(mu, TorchCall("VAE encode", [&] { return Normalize(mu); }));
  }
  return mus;
}

absl::StatusOr<std::vector<torch::Tensor>> WanVae::EncodeMu(const std::vector<torch::Tensor>& videos,
                                                            const EncodeOptions& options,
                                                            const CancelToken* cancel) const {
  int total = 0;
  for (size_t i = 0; i < videos.size(); ++i) {
    RETURN_IF_ERROR(CheckVideo(videos[i], i));
    total += static_cast<int>(VaeModule::EncodeChunks(videos[i].size(1)).size());
  }
  torch::NoGradGuard no_grad;
  const CancelScope cancel_scope(cancel);  // also checked before every residual block
  Progress progress(options.progress, total);
  std::vector<torch::Tensor> result;
  for (const torch::Tensor& video : videos) {
    ASSIGN_OR_RETURN(torch::Tensor x, TorchCall("VAE encode", [&] {
                       return video.to(device_, at::kFloat).unsqueeze(0);  // [1, 3, F, H, W]
                     }));
    FeatCache cache;
    std::vector<torch::Tensor> outs;
    for (const auto& [begin, end] : VaeModule::EncodeChunks(x.size(2))) {
      RETURN_IF_ERROR(CheckCancel(cancel, "VAE encode"));
      ASSIGN_OR_RETURN(torch::Tensor out, TorchCall("VAE encode", [&] {
                         return model_->EncodeChunk(x.slice(2, begin, end), cache);
                       }));
      outs.push_back(std::move(out));
      progress.Step();
    }
    ASSIGN_OR_RETURN(torch::Tensor mu, TorchCall("VAE encode", [&] {
                       return model_->Mu(at::cat(outs, 2)).squeeze(0);
                     }));
    result.push_back(std::move(mu));
  }
  return result;
}

absl::StatusOr<std::vector<torch::Tensor>> WanVae::Decode(const std::vector<torch::Tensor>& latents,
                                                          const DecodeOptions& options,
                                                          const CancelToken* cancel) const {
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> videos, DecodeUnclamped(latents, options, cancel));
  torch::NoGradGuard no_grad;
  for (torch::Tensor& video : videos) {
    RETURN_IF_ERROR(TorchCall("VAE decode", [&] { video.clamp_(-1.0, 1.0); }));
  }
  return videos;
}

absl::StatusOr<std::vector<torch::Tensor>> WanVae::DecodeUnclamped(
    const std::vector<torch::Tensor>& latents, const DecodeOptions& options,
    const CancelToken* cancel) const {
  if (options.tile_latent_size.has_value()) {
    if (*options.tile_latent_size < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DecodeOptions.tile_latent_size must be >= 1, got ", *options.tile_latent_size));
    }
    if (options.tile_overlap < 0 || options.tile_overlap >= *options.tile_latent_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("DecodeOptions.tile_overlap must be in [0, tile_latent_size = ",
                       *options.tile_latent_size, "), got ", options.tile_overlap));
    }
  }
  // Tiles per latent (one whole-frame tile when not tiling).
  std::vector<std::vector<TileSpan>> rows(latents.size()), cols(latents.size());
  int total = 0;
  for (size_t i = 0; i < latents.size(); ++i) {
    RETURN_IF_ERROR(CheckLatent(latents[i], i));
    const int64_t h = latents[i].size(2), w = latents[i].size(3);
    if (options.tile_latent_size.has_value()) {
      rows[i] = TileSpans(h, *options.tile_latent_size, options.tile_overlap);
      cols[i] = TileSpans(w, *options.tile_latent_size, options.tile_overlap);
    } else {
      rows[i] = {TileSpan{0, h}};
      cols[i] = {TileSpan{0, w}};
    }
    total += static_cast<int>(latents[i].size(1) * rows[i].size() * cols[i].size());
  }

  torch::NoGradGuard no_grad;
  const CancelScope cancel_scope(cancel);  // also checked before every residual block
  Progress progress(options.progress, total);
  const int64_t scale = config_.spatial_stride();
  std::vector<torch::Tensor> result;
  for (size_t i = 0; i < latents.size(); ++i) {
    ASSIGN_OR_RETURN(torch::Tensor x, TorchCall("VAE decode", [&] {
                       const torch::Tensor z = latents[i].to(device_, at::kFloat).unsqueeze(0);
                       return model_->PrepareDecode(Denormalize(z));  // [1, C, T, h, w]
                     }));
    const int64_t h = x.size(3), w = x.size(4);
    // Whole temporal decode of one spatial tile with its own cache.
    auto decode_tile = [&](const TileSpan& row, const TileSpan& col) -> absl::StatusOr<torch::Tensor> {
      const torch::Tensor tile =
          x.slice(3, row.begin, row.begin + row.size).slice(4, col.begin, col.begin + col.size);
      FeatCache cache;
      std::vector<torch::Tensor> frames;
      for (int64_t t = 0; t < tile.size(2); ++t) {
        RETURN_IF_ERROR(CheckCancel(cancel, "VAE decode"));
        ASSIGN_OR_RETURN(torch::Tensor out, TorchCall("VAE decode", [&] {
                           return model_->DecodeChunk(tile.slice(2, t, t + 1), cache, /*first_chunk=*/t == 0);
                         }));
        frames.push_back(std::move(out));
        progress.Step();
      }
      return TorchCall("VAE decode", [&] { return at::cat(frames, 2); });  // [1, 3, F, H, W]
    };

    if (rows[i].size() == 1 && cols[i].size() == 1) {
      ASSIGN_OR_RETURN(torch::Tensor video, decode_tile(rows[i][0], cols[i][0]));
      result.push_back(video.squeeze(0));
      continue;
    }
    torch::Tensor sum, weight_sum;
    for (const TileSpan& row : rows[i]) {
      for (const TileSpan& col : cols[i]) {
        ASSIGN_OR_RETURN(torch::Tensor tile, decode_tile(row, col));
        RETURN_IF_ERROR(TorchCall("VAE decode", [&] {
          if (!sum.defined()) {
            sum = at::zeros({1, tile.size(1), tile.size(2), h * scale, w * scale}, tile.options());
            weight_sum = at::zeros({h * scale, w * scale}, tile.options());
          }
          const torch::Tensor weight = at::outer(BlendRamp(row, h, options.tile_overlap, scale),
                                                 BlendRamp(col, w, options.tile_overlap, scale))
                                           .to(tile.device());
          sum.slice(3, row.begin * scale, (row.begin + row.size) * scale)
              .slice(4, col.begin * scale, (col.begin + col.size) * scale)
              .add_(tile * weight);
          weight_sum.slice(0, row.begin * scale, (row.begin + row.size) * scale)
              .slice(1, col.begin * scale, (col.begin + col.size) * scale)
              .add_(weight);
        }));
      }
    }
    ASSIGN_OR_RETURN(torch::Tensor video,
                     TorchCall("VAE decode", [&] { return (sum / weight_sum).squeeze(0); }));
    result.push_back(std::move(video));
  }
  return result;
}

}  // namespace videogen::models::vae
