#include "engine/synth/official_tensors.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace videogen::synth {
namespace {

// Appends tensors of one dtype under their official names.
class TensorList {
 public:
  explicit TensorList(io::DType dtype) : dtype_(dtype) {}

  void Add(const std::string& name, std::vector<int64_t> shape) { out_.push_back({name, dtype_, std::move(shape)}); }
  // nn.Linear (weight [out, in], optional bias).
  void Linear(const std::string& p, int64_t in, int64_t out, bool bias = true) {
    Add(p + ".weight", {out, in});
    if (bias) Add(p + ".bias", {out});
  }
  // nn.Conv2d / CausalConv3d with bias; `kernel` spatial (and temporal) sizes.
  void Conv(const std::string& p, int64_t out, int64_t in, std::vector<int64_t> kernel) {
    std::vector<int64_t> shape = {out, in};
    shape.insert(shape.end(), kernel.begin(), kernel.end());
    Add(p + ".weight", std::move(shape));
    Add(p + ".bias", {out});
  }
  std::vector<SyntheticTensor> Take() { return std::move(out_); }

 private:
  const io::DType dtype_;
  std::vector<SyntheticTensor> out_;
};

// --- DiT (model.py) ---

void SelfAttention(TensorList& t, const std::string& p, int64_t dim) {
  for (const char* proj : {"q", "k", "v", "o"}) t.Linear(absl::StrCat(p, ".", proj), dim, dim);
  t.Add(p + ".norm_q.weight", {dim});
  t.Add(p + ".norm_k.weight", {dim});
}

// --- VAE (vae2_1.py, vae2_2.py) ---

// ResidualBlock: RMS_norm(images=False), CausalConv3d 3x3x3, RMS_norm, CausalConv3d, 1x1x1 shortcut when widths differ.
void Residual(TensorList& t, const std::string& p, int64_t in, int64_t out) {
  t.Add(p + ".residual.0.gamma", {in, 1, 1, 1});
  t.Conv(p + ".residual.2", out, in, {3, 3, 3});
  t.Add(p + ".residual.3.gamma", {out, 1, 1, 1});
  t.Conv(p + ".residual.6", out, out, {3, 3, 3});
  if (in != out) t.Conv(p + ".shortcut", out, in, {1, 1, 1});
}

// AttentionBlock: RMS_norm (images), to_qkv and proj 1x1 Conv2d.
void Attention(TensorList& t, const std::string& p, int64_t dim) {
  t.Add(p + ".norm.gamma", {dim, 1, 1});
  t.Conv(p + ".to_qkv", 3 * dim, dim, {1, 1});
  t.Conv(p + ".proj", dim, dim, {1, 1});
}

enum class ResampleMode { kUp2d, kUp3d, kDown2d, kDown3d };

// Resample: its Conv2d (the Wan2.1 upsampler halves the width, Wan2.2's keeps
// it) and, for the 3d modes, the temporal CausalConv3d (3, 1, 1).
void Resample(TensorList& t, const std::string& p, int64_t dim, ResampleMode mode, io::VaeKind kind) {
  const bool up = mode == ResampleMode::kUp2d || mode == ResampleMode::kUp3d;
  const int64_t out = up && kind == io::VaeKind::kWan21 ? dim / 2 : dim;
  t.Conv(p + ".resample.1", out, dim, {3, 3});
  if (mode == ResampleMode::kUp3d) t.Conv(p + ".time_conv", 2 * dim, dim, {3, 1, 1});
  if (mode == ResampleMode::kDown3d) t.Conv(p + ".time_conv", dim, dim, {3, 1, 1});
}

constexpr int64_t kDimMult[] = {1, 2, 4, 4};
constexpr bool kTemporalDown[] = {false, true, true};  // per level; the last level does not resample
constexpr int kLevels = 4;
constexpr int kResBlocks = 2;

void Middle(TensorList& t, const std::string& p, int64_t dim) {
  Residual(t, p + ".middle.0", dim, dim);
  Attention(t, p + ".middle.1", dim);
  Residual(t, p + ".middle.2", dim, dim);
}

void Head(TensorList& t, const std::string& p, int64_t dim, int64_t out) {
  t.Add(p + ".head.0.gamma", {dim, 1, 1, 1});
  t.Conv(p + ".head.2", out, dim, {3, 3, 3});
}

// Encoder3d: Wan2.1 takes RGB and lists its blocks flat (downsamples.N);
// Wan2.2 takes 2x2-patchified RGB and nests them per level
// (downsamples.L.downsamples.N, beside a parameter-free AvgDown3D shortcut).
void Encoder(TensorList& t, const VaeShape& v) {
  const bool v22 = v.kind == io::VaeKind::kWan22;
  std::vector<int64_t> dims = {v.dim};
  for (int64_t m : kDimMult) dims.push_back(v.dim * m);
  t.Conv("encoder.conv1", dims[0], v22 ? 12 : 3, {3, 3, 3});
  int flat = 0;
  for (int level = 0; level < kLevels; ++level) {
    int64_t in = dims[level];
    const int64_t out = dims[level + 1];
    int nested = 0;
    auto name = [&]() {
      return v22 ? absl::StrCat("encoder.downsamples.", level, ".downsamples.", nested++)
                 : absl::StrCat("encoder.downsamples.", flat++);
    };
    for (int r = 0; r < kResBlocks; ++r, in = out) Residual(t, name(), in, out);
    if (level != kLevels - 1) {
      Resample(t, name(), out, kTemporalDown[level] ? ResampleMode::kDown3d : ResampleMode::kDown2d, v.kind);
    }
  }
  Middle(t, "encoder", dims.back());
  Head(t, "encoder", dims.back(), 2 * v.z_dim);
}

// Decoder3d: widths dim * [4, 4, 4, 2, 1]; three residual blocks per level and
// an upsampler on all but the last (temporal on the first two). Wan2.1 halves
// a level's input width after an upsampler and ends in RGB; Wan2.2 nests the
// levels (parameter-free DupUp3D shortcuts) and ends in 12 channels (2x2
// patches of RGB).
void Decoder(TensorList& t, const VaeShape& v) {
  const bool v22 = v.kind == io::VaeKind::kWan22;
  const int64_t dim = v22 ? v.dec_dim : v.dim;
  const std::vector<int64_t> dims = {dim * 4, dim * 4, dim * 4, dim * 2, dim};
  t.Conv("decoder.conv1", dims[0], v.z_dim, {3, 3, 3});
  Middle(t, "decoder", dims[0]);
  int flat = 0;
  for (int level = 0; level < kLevels; ++level) {
    int64_t in = !v22 && level > 0 ? dims[level] / 2 : dims[level];
    const int64_t out = dims[level + 1];
    int nested = 0;
    auto name = [&]() {
      return v22 ? absl::StrCat("decoder.upsamples.", level, ".upsamples.", nested++)
                 : absl::StrCat("decoder.upsamples.", flat++);
    };
    for (int r = 0; r < kResBlocks + 1; ++r, in = out) Residual(t, name(), in, out);
    if (level != kLevels - 1) {
      // temperal_upsample = temperal_downsample reversed.
      const bool temporal = kTemporalDown[kLevels - 2 - level];
      Resample(t, name(), out, temporal ? ResampleMode::kUp3d : ResampleMode::kUp2d, v.kind);
    }
  }
  Head(t, "decoder", dims.back(), v22 ? 12 : 3);
}

}  // namespace

DitShape DitShape::T2V_A14B() {
  DitShape s;
  s.dim = 5120;
  s.ffn_dim = 13824;
  s.num_heads = 40;
  s.num_layers = 40;
  return s;
}

DitShape DitShape::I2V_A14B() {
  DitShape s = T2V_A14B();
  s.in_dim = 36;  // 16 noise + 4 mask + 16 image-latent channels
  s.model_type = "i2v";
  return s;
}

DitShape DitShape::TI2V_5B() {
  DitShape s;
  s.dim = 3072;
  s.ffn_dim = 14336;
  s.num_heads = 24;
  s.num_layers = 30;
  s.in_dim = 48;
  s.out_dim = 48;
  s.model_type = "ti2v";
  return s;
}

std::vector<SyntheticTensor> OfficialDitTensors(const DitShape& s, io::DType dtype) {
  TensorList t(dtype);
  t.Conv("patch_embedding", s.dim, s.in_dim, {1, 2, 2});
  t.Linear("text_embedding.0", s.text_dim, s.dim);
  t.Linear("text_embedding.2", s.dim, s.dim);
  t.Linear("time_embedding.0", s.freq_dim, s.dim);
  t.Linear("time_embedding.2", s.dim, s.dim);
  t.Linear("time_projection.1", s.dim, 6 * s.dim);
  for (int64_t b = 0; b < s.num_layers; ++b) {
    const std::string p = absl::StrCat("blocks.", b);
    SelfAttention(t, p + ".self_attn", s.dim);
    t.Add(p + ".norm3.weight", {s.dim});
    t.Add(p + ".norm3.bias", {s.dim});
    SelfAttention(t, p + ".cross_attn", s.dim);
    t.Linear(p + ".ffn.0", s.dim, s.ffn_dim);
    t.Linear(p + ".ffn.2", s.ffn_dim, s.dim);
    t.Add(p + ".modulation", {1, 6, s.dim});
  }
  t.Linear("head.head", s.dim, 4 * s.out_dim);  // patch (1, 2, 2)
  t.Add("head.modulation", {1, 2, s.dim});
  return t.Take();
}

std::vector<SyntheticTensor> OfficialT5Tensors(const T5Shape& s, io::DType dtype) {
  TensorList t(dtype);
  t.Add("token_embedding.weight", {s.vocab, s.dim});
  for (int64_t b = 0; b < s.num_layers; ++b) {
    const std::string p = absl::StrCat("blocks.", b);
    t.Add(p + ".norm1.weight", {s.dim});
    t.Linear(p + ".attn.q", s.dim, s.dim_attn, false);
    t.Linear(p + ".attn.k", s.dim, s.dim_attn, false);
    t.Linear(p + ".attn.v", s.dim, s.dim_attn, false);
    t.Linear(p + ".attn.o", s.dim_attn, s.dim, false);
    t.Add(p + ".norm2.weight", {s.dim});
    t.Linear(p + ".ffn.gate.0", s.dim, s.dim_ffn, false);
    t.Linear(p + ".ffn.fc1", s.dim, s.dim_ffn, false);
    t.Linear(p + ".ffn.fc2", s.dim_ffn, s.dim, false);
    t.Add(p + ".pos_embedding.embedding.weight", {s.num_buckets, s.num_heads});
  }
  t.Add("norm.weight", {s.dim});
  return t.Take();
}

VaeShape VaeShape::Wan21() { return VaeShape{}; }

VaeShape VaeShape::Wan22() {
  VaeShape s;
  s.kind = io::VaeKind::kWan22;
  s.dim = 160;
  s.dec_dim = 256;
  s.z_dim = 48;
  return s;
}

std::vector<SyntheticTensor> OfficialVaeTensors(const VaeShape& v, io::DType dtype) {
  TensorList t(dtype);
  Encoder(t, v);
  t.Conv("conv1", 2 * v.z_dim, 2 * v.z_dim, {1, 1, 1});
  t.Conv("conv2", v.z_dim, v.z_dim, {1, 1, 1});
  Decoder(t, v);
  return t.Take();
}

}  // namespace videogen::synth
