// ComfyUI's repackaged single files of Wan2.1 and Wan2.2
// (Comfy-Org/Wan_2.1_ComfyUI_repackaged, Comfy-Org/Wan_2.2_ComfyUI_Repackaged),
// recognised from their safetensors headers and presented under the official
// Wan names:
//   DiT   wan2.1_*.safetensors,      official names, optionally prefixed
//         wan2.2_*.safetensors       `model.diffusion_model.` (stripped); fp16,
//                                    bf16 or fp8_e4m3fn; "fp8_scaled" files carry
//                                    `scaled_fp8` and per-layer `.scale_weight`,
//                                    passed through unchanged to the loader
//                                    (engine/models/common/state_dict.h). The two
//                                    experts of a Wan2.2 A14B pair have the same
//                                    tensors; "high_noise" / "low_noise" in the
//                                    file name tells them apart.
//   T5    umt5_xxl_*.safetensors     HF T5 names (encoder.block.N.layer.0.SelfAttention.q,
//                                    shared, DenseReluDense.wi_0/wi_1/wo, ...),
//                                    renamed to the official T5Encoder names.
//   CLIP  clip_vision_h.safetensors  HF CLIPVisionModel names (vision_model.*,
//                                    what ComfyUI stores): q/k/v_proj are
//                                    concatenated into attn.to_qkv, the class and
//                                    position embeddings reshaped; or the official
//                                    `visual.*` names. The open_clip naming
//                                    (visual.transformer.resblocks.*) is refused.
//   VAE   wan_2.1_vae.safetensors,   the official names; which VAE is read from
//         wan2.2_vae.safetensors     the encoder's first conv (ClassifyVae).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/model_dir.h"
#include "engine/io/tensor_source.h"

namespace videogen::io {

enum class ComfyComponent { kDit, kT5, kClip, kVae };

// "dit", "t5", "clip", "vae".
std::string_view ComfyComponentName(ComfyComponent component);

// The stored name of a tensor -> its official name; nullopt drops the tensor.
using TensorRenamer = std::function<std::optional<std::string>(std::string_view stored)>;

// A tensor built from stored ones: their concatenation along dim 0, viewed
// as `shape` (same element count and dtype). Read copies.
struct DerivedTensor {
  std::string name;                // the new name
  std::vector<std::string> parts;  // stored names, in order
  std::vector<int64_t> shape;
};

// A TensorSource presenting the tensors of `base` under new names (data and
// dtypes unchanged, zero-copy as `base`), plus derived tensors.
// Thread safety: as TensorSource (immutable after Create).
class RenamingTensorSource final : public TensorSource {
 public:
  // Takes `base` over. InvalidArgument naming both stored names when two
  // tensors get the same new name, and naming a derived tensor whose parts are
  // missing, of different dtypes or another element count than its shape.
  static absl::StatusOr<std::unique_ptr<RenamingTensorSource>> Create(std::unique_ptr<TensorSource> base,
                                                                      const TensorRenamer& rename,
                                                                      std::vector<DerivedTensor> derived = {});

  const std::vector<TensorInfo>& tensors() const override { return tensors_; }
  // NotFound with the new name; otherwise the base's result for the stored name.
  absl::StatusOr<torch::Tensor> Read(std::string_view name) const override;
  void Release(std::string_view name) const override;
  std::string Describe() const override;

  // The stored name of new name `name` ("" when absent).
  std::string StoredName(std::string_view name) const;

 private:
  RenamingTensorSource(std::unique_ptr<TensorSource> base, std::vector<TensorInfo> tensors,
                       std::vector<std::string> stored, std::vector<DerivedTensor> derived)
      : base_(std::move(base)), tensors_(std::move(tensors)), stored_(std::move(stored)),
        derived_(std::move(derived)) {}

  // Constant after construction.
  const std::unique_ptr<TensorSource> base_;
  const std::vector<TensorInfo> tensors_;  // sorted by new name
  const std::vector<std::string> stored_;  // stored_[i]: stored name of tensors_[i] ("" when derived)
  const std::vector<DerivedTensor> derived_;
};

// The HF umT5 encoder name -> the official T5Encoder name
// ("encoder.block.3.layer.1.DenseReluDense.wi_0.weight" -> "blocks.3.ffn.gate.0.weight").
// Names of the official layout map to themselves; nullopt for names the
// encoder does not use (decoder.*, lm_head, encoder.embed_tokens beside shared).
std::optional<std::string> T5OfficialName(std::string_view hf_name);

// The component a safetensors header describes, from its tensor names (either
// naming). nullopt for none of the four.
std::optional<ComfyComponent> ClassifyHeader(const std::vector<TensorInfo>& tensors);

// Which Wan VAE a VAE checkpoint's tensors (official names, any file format)
// are: from the input channels of `encoder.conv1.weight` (3: Wan2.1; 12: the
// Wan2.2 VAE's 2x2-patchified RGB), else the output channels of the
// decoder's `decoder.head.2.weight`. nullopt when neither tells (not a Wan VAE).
std::optional<VaeKind> ClassifyVae(const std::vector<TensorInfo>& tensors);

// The latent channels a DiT's tensors (official or `model.diffusion_model.`
// names) predict: the rows of `head.head.weight` over the 1x2x2 patch (16 for
// the Wan2.1 VAE, 48 for the Wan2.2 VAE). nullopt without that tensor.
std::optional<int64_t> DitLatentChannels(const std::vector<TensorInfo>& tensors);

// The official name of an HF CLIPVisionModel tensor that maps one to one
// ("vision_model.encoder.layers.3.mlp.fc1.weight" -> "visual.transformer.3.mlp.0.weight");
// nullopt for the q/k/v projections, the class/position embeddings (derived,
// see OpenComfyCheckpoint), visual_projection and unknown names.
std::optional<std::string> ClipOfficialName(std::string_view hf_name);

// Opens `path` (a safetensors file of `component`, ComfyUI or official naming)
// with the official names. InvalidArgument naming the file when its header is
// not `component`, for the open_clip CLIP naming, and for T5 files with
// per-layer fp8 scales (the T5 encoder has no scaled-fp8 layers); NotFound /
// DataLoss from opening.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenComfyCheckpoint(const std::string& path,
                                                                  ComfyComponent component);

// The ComfyUI single files found in `dir` and its immediate sub-directories
// (ComfyUI's models/ tree: diffusion_models/, text_encoders/, clip_vision/,
// vae/), classified by header. Empty strings for components not found.
struct ComfyFiles {
  std::string dit;             // a one-DiT model's file
  std::string dit_high_noise;  // a DiT file named *high_noise* (Wan2.2 expert pair)
  std::string dit_low_noise;   // a DiT file named *low_noise*
  std::string t5;
  std::string clip;
  std::string vae;
  VaeKind vae_kind = VaeKind::kWan21;  // ClassifyVae of `vae` (kWan21 when absent)
};
// DiT files named high_noise/low_noise are the two experts of a pair (either
// may be missing: the caller names it); several VAE files are narrowed to the
// one of the DiT's latent channels. InvalidArgument naming the files when two
// hold the same component (two single DiTs, two high-noise experts, a single
// DiT beside experts, VAEs the DiT cannot tell apart), when the two experts'
// tensors differ (naming the first differing tensor), for a VAE of unknown
// kind, and for a DiT whose latent channels are not its VAE's; DataLoss when a
// header cannot be read.
absl::StatusOr<ComfyFiles> DetectComfyFiles(const std::string& dir);

}  // namespace videogen::io
