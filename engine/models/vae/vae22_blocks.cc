#include "engine/models/vae/vae22_blocks.h"

#include <ATen/ATen.h>

namespace videogen::models::vae {

torch::Tensor Patchify(const torch::Tensor& x, int64_t patch) {
  // x: [B, C, F, H, W]
  if (patch == 1) return x;
  const int64_t b = x.size(0), c = x.size(1), f = x.size(2), h = x.size(3) / patch, w = x.size(4) / patch;
  return x
      .reshape({b, c, f, h, patch, w, patch})  // [B, C, F, h, q, w, r]
      .permute({0, 1, 6, 4, 2, 3, 5})          // [B, C, r, q, F, h, w]
      .reshape({b, c * patch * patch, f, h, w});
}

torch::Tensor Unpatchify(const torch::Tensor& x, int64_t patch) {
  // x: [B, C * patch^2, F, h, w]
  if (patch == 1) return x;
  const int64_t b = x.size(0), c = x.size(1) / (patch * patch), f = x.size(2), h = x.size(3), w = x.size(4);
  return x
      .reshape({b, c, patch, patch, f, h, w})  // [B, C, r, q, F, h, w]
      .permute({0, 1, 4, 5, 3, 6, 2})          // [B, C, F, h, q, w, r]
      .reshape({b, c, f, h * patch, w * patch});
}

torch::Tensor AvgDown3D(const torch::Tensor& x_in, int64_t out_channels, int64_t factor_t, int64_t factor_s) {
  // x: [B, C, T, H, W]
  const int64_t pad_t = (factor_t - x_in.size(2) % factor_t) % factor_t;
  const torch::Tensor x = pad_t > 0 ? at::constant_pad_nd(x_in, {0, 0, 0, 0, pad_t, 0}, 0.0) : x_in;
  const int64_t b = x.size(0), c = x.size(1);
  const int64_t t = x.size(2) / factor_t, h = x.size(3) / factor_s, w = x.size(4) / factor_s;
  const int64_t group = c * factor_t * factor_s * factor_s / out_channels;
  return x.reshape({b, c, t, factor_t, h, factor_s, w, factor_s})
      .permute({0, 1, 3, 5, 7, 2, 4, 6})  // [B, C, ft, fs, fs, T', H', W']
      .reshape({b, out_channels, group, t, h, w})
      .mean(/*dim=*/2);
}

torch::Tensor DupUp3D(const torch::Tensor& x, int64_t out_channels, int64_t factor_t, int64_t factor_s,
                      bool first_chunk) {
  // x: [B, C, T, H, W]
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
  const int64_t repeats = out_channels * factor_t * factor_s * factor_s / c;
  // repeat_interleave over channels, viewed as [B, out, ft, fs, fs, T, H, W].
  torch::Tensor y = x.unsqueeze(2)
                        .expand({b, c, repeats, t, h, w})
                        .reshape({b, out_channels, factor_t, factor_s, factor_s, t, h, w})
                        .permute({0, 1, 5, 2, 6, 3, 7, 4})  // [B, out, T, ft, H, fs, W, fs]
                        .reshape({b, out_channels, t * factor_t, h * factor_s, w * factor_s});
  if (first_chunk && factor_t > 1) y = y.narrow(2, factor_t - 1, y.size(2) - (factor_t - 1));
  return y;
}

namespace {

// The level's ResidualBlocks and Resample, registered in `list` in the
// official order (so that they are named <list>.0, <list>.1, ...).
void BuildLevel(const Vae22LevelOptions& o, UpsampleWidth width, torch::nn::ModuleList& list,
                std::vector<ResidualBlock>& blocks, Resample& resample) {
  int64_t in_dim = o.in_dim;
  for (int64_t i = 0; i < o.num_blocks; ++i) {
    blocks.push_back(ResidualBlock(in_dim, o.out_dim, o.dropout));
    list->push_back(blocks.back());
    in_dim = o.out_dim;
  }
  if (o.resample.has_value()) {
    resample = Resample(o.out_dim, *o.resample, width);
    list->push_back(resample);
  }
}

}  // namespace

DownResidualBlockImpl::DownResidualBlockImpl(const Vae22LevelOptions& options) : options_(options) {
  downsamples_ = register_module("downsamples", torch::nn::ModuleList());
  BuildLevel(options_, UpsampleWidth::kKeep, downsamples_, blocks_, resample_);
}

torch::Tensor DownResidualBlockImpl::forward(const torch::Tensor& x, FeatCache& cache) {
  // x: [B, in_dim, T, H, W]
  torch::Tensor y = x;
  for (ResidualBlock& block : blocks_) y = block->forward(y, cache);
  if (resample_) y = resample_->forward(y, cache);
  const int64_t factor_t = options_.resample == ResampleMode::kDownsample3d ? 2 : 1;
  const int64_t factor_s = options_.resample.has_value() ? 2 : 1;
  return y + AvgDown3D(x, options_.out_dim, factor_t, factor_s);
}

UpResidualBlockImpl::UpResidualBlockImpl(const Vae22LevelOptions& options) : options_(options) {
  upsamples_ = register_module("upsamples", torch::nn::ModuleList());
  BuildLevel(options_, UpsampleWidth::kKeep, upsamples_, blocks_, resample_);
}

torch::Tensor UpResidualBlockImpl::forward(const torch::Tensor& x, FeatCache& cache, bool first_chunk) {
  // x: [B, in_dim, T, h, w]
  torch::Tensor y = x;
  for (ResidualBlock& block : blocks_) y = block->forward(y, cache);
  if (!resample_) return y;
  y = resample_->forward(y, cache);
  const int64_t factor_t = options_.resample == ResampleMode::kUpsample3d ? 2 : 1;
  return y + DupUp3D(x, options_.out_dim, factor_t, /*factor_s=*/2, first_chunk);
}

}  // namespace videogen::models::vae
