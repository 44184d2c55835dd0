#include "engine/pipeline/ti2v_conditioning.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/pipeline/api/request_rules.h"

namespace videogen::pipeline {
namespace {

// PIL's Resample.c: 8-bit weights carry PRECISION_BITS = 32 - 8 - 2 fraction bits.
constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr double kLanczosSupport = 3.0;
// The Wan2.2 VAE's spatial stride.
constexpr int64_t kStride = 16;

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

double Lanczos(double x) { return (-3.0 <= x && x < 3.0) ? Sinc(x) * Sinc(x / 3.0) : 0.0; }

// One pass's coefficients (precompute_coeffs + normalize_coeffs_8bpc): for
// each output index, the first input index, the tap count and the taps.
struct Coefficients {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> taps;  // out_size * ksize
};

Coefficients Precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = kLanczosSupport * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.taps.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = Lanczos((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
      const double v = k[x] * (1 << kPrecisionBits);
      c.taps[static_cast<size_t>(xx) * c.ksize + x] = static_cast<int32_t>(v < 0 ? -0.5 + v : 0.5 + v);
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t Clip8(int32_t v) { return static_cast<uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255)); }

// Resamples axis `axis` (0: rows/height, 1: columns/width) of uint8 [H, W, 3].
torch::Tensor ResamplePass(const torch::Tensor& in, int axis, int out_size) {
  const int h = static_cast<int>(in.size(0)), w = static_cast<int>(in.size(1));
  const Coefficients c = Precompute(axis == 0 ? h : w, out_size);
  const int oh = axis == 0 ? out_size : h, ow = axis == 0 ? w : out_size;
  torch::Tensor out = torch::empty({oh, ow, 3}, torch::kUInt8);
  const uint8_t* src = in.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      const int o = axis == 0 ? y : x;
      const int32_t* k = &c.taps[static_cast<size_t>(o) * c.ksize];
      for (int ch = 0; ch < 3; ++ch) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < c.count[o]; ++i) {
          const int sy = axis == 0 ? c.first[o] + i : y, sx = axis == 0 ? x : c.first[o] + i;
          ss += static_cast<int32_t>(src[(static_cast<size_t>(sy) * w + sx) * 3 + ch]) * k[i];
        }
        dst[(static_cast<size_t>(y) * ow + x) * 3 + ch] = Clip8(ss);
      }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::pair<int64_t, int64_t>> BestOutputSize(int64_t w, int64_t h, int64_t dw, int64_t dh,
                                                           int64_t expected_area) {
  if (w <= 0 || h <= 0) return absl::InvalidArgumentError(absl::StrCat("image: empty (", w, "x", h, ")"));
  const double area = static_cast<double>(expected_area);
  const double ratio = static_cast<double>(w) / static_cast<double>(h);
  const double ow = std::pow(area * ratio, 0.5);
  const double oh = area / ow;
  const auto floor_to = [](double v, int64_t m) {
    return static_cast<int64_t>(std::floor(v / static_cast<double>(m)) * static_cast<double>(m));
  };
  const int64_t ow1 = floor_to(ow, dw);
  const int64_t oh2 = floor_to(oh, dh);
  const int64_t oh1 = ow1 > 0 ? floor_to(area / static_cast<double>(ow1), dh) : 0;
  const int64_t ow2 = oh2 > 0 ? floor_to(area / static_cast<double>(oh2), dw) : 0;
  const bool first_ok = ow1 > 0 && oh1 > 0, second_ok = ow2 > 0 && oh2 > 0;
  if (!first_ok && !second_ok) {
    return absl::InvalidArgumentError(absl::StrCat("max_area: ", expected_area, " is too small for a ", w, "x", h,
                                                   " image (the output must hold at least one ", dw, "x", dh,
                                                   " cell at the image's aspect)"));
  }
  if (!second_ok) return std::pair{ow1, oh1};
  if (!first_ok) return std::pair{ow2, oh2};
  const double r1 = static_cast<double>(ow1) / static_cast<double>(oh1);
  const double r2 = static_cast<double>(ow2) / static_cast<double>(oh2);
  if (std::max(ratio / r1, r1 / ratio) < std::max(ratio / r2, r2 / ratio)) return std::pair{ow1, oh1};
  return std::pair{ow2, oh2};
}

torch::Tensor PilLanczosResize(const torch::Tensor& image_u8, int64_t out_w, int64_t out_h) {
  torch::Tensor x = image_u8.contiguous();
  if (out_w != x.size(1)) x = ResamplePass(x, 1, static_cast<int>(out_w));
  if (out_h != x.size(0)) x = ResamplePass(x, 0, static_cast<int>(out_h));
  return x.data_ptr() == image_u8.data_ptr() ? x.clone() : x;
}

absl::StatusOr<LatentGeometry> TextImageToVideoGeometry(int64_t image_width, int64_t image_height,
                                                        int64_t max_area, int64_t frames,
                                                        std::array<int64_t, 3> patch) {
  RETURN_IF_ERROR(CheckNumFrames(frames));
  ASSIGN_OR_RETURN(const auto size,
                   BestOutputSize(image_width, image_height, kStride * patch[2], kStride * patch[1], max_area));
  LatentGeometry g;
  g.frames = frames;
  g.spatial_stride = kStride;
  g.latent_t = (frames - 1) / 4 + 1;
  g.latent_h = size.second / kStride;
  g.latent_w = size.first / kStride;
  g.seq_len = g.latent_t * g.latent_h * g.latent_w / (patch[1] * patch[2]);
  return g;
}

torch::Tensor TextImageToVideoImage(const torch::Tensor& image_u8, const LatentGeometry& g) {
  // image_u8: [H0, W0, 3]
  const int64_t ih = image_u8.size(0), iw = image_u8.size(1), ow = g.width(), oh = g.height();
  const double scale = std::max(static_cast<double>(ow) / static_cast<double>(iw),
                                static_cast<double>(oh) / static_cast<double>(ih));
  // Python's round(): half to even, as nearbyint in the default rounding mode.
  const int64_t rw = static_cast<int64_t>(std::nearbyint(static_cast<double>(iw) * scale));
  const int64_t rh = static_cast<int64_t>(std::nearbyint(static_cast<double>(ih) * scale));
  const torch::Tensor resized = PilLanczosResize(image_u8, rw, rh);
  const int64_t x1 = (rw - ow) / 2, y1 = (rh - oh) / 2;
  const torch::Tensor crop = resized.narrow(0, y1, oh).narrow(1, x1, ow);
  return ImageToTensor(crop).unsqueeze(1);
}

torch::Tensor LatentFrameZeroMask(int64_t channels, const LatentGeometry& g) {
  torch::Tensor mask = torch::ones({channels, g.latent_t, g.latent_h, g.latent_w}, torch::kFloat32);
  mask.select(1, 0).zero_();
  return mask;
}

torch::Tensor ImposeFirstFrame(const torch::Tensor& latent, const torch::Tensor& z, const torch::Tensor& mask) {
  return (1.0 - mask) * z + mask * latent;
}

torch::Tensor PerTokenTimesteps(const torch::Tensor& mask, const torch::Tensor& t, int64_t seq_len,
                                std::array<int64_t, 3> patch) {
  // mask: [C, T, h, w]; t: [1]
  const torch::Tensor tf = t.to(mask.device(), torch::kFloat32);
  const torch::Tensor tokens =
      (mask.select(0, 0).slice(1, 0, c10::nullopt, patch[1]).slice(2, 0, c10::nullopt, patch[2]) * tf).flatten();
  const torch::Tensor pad = at::ones({seq_len - tokens.size(0)}, tokens.options()) * tf;
  return at::cat({tokens, pad}).unsqueeze(0);
}

}  // namespace videogen::pipeline
