// The tensors of a model directory's components, from checkpoint headers
// alone (no tensor data is read), and what they cost once resident.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/model_dir.h"
#include "engine/io/tensor_source.h"
#include "engine/memory/placement.h"

namespace videogen::memory {

struct ComponentHeaders {
  Component component = Component::kDit;
  std::string path;                   // the file (or index) read
  std::vector<io::TensorInfo> tensors;  // under the official names
};

struct ModelHeaders {
  std::string dir;
  // kDit first (the model's DiT, or the high-noise expert of a Wan2.2 pair),
  // then kDitLowNoise for an expert pair; absent encoders are omitted.
  std::vector<ComponentHeaders> components;
  std::optional<int64_t> dit_num_heads;  // config.json "num_heads" when present

  const ComponentHeaders* Find(Component c) const;
  // Whether the model is a Wan2.2 expert pair (A14B): kDitLowNoise is present.
  bool has_expert_pair() const { return Find(Component::kDitLowNoise) != nullptr; }
};

// Reads the headers of the components in `dir`, in any layout
// io::FindModelFiles finds (with FindModelFilesOptions::headers_only: only
// the DiT or expert pair is required, and `<stem>.safetensors` stand-ins of
// the official `.pth` files are read, as synthetic checkpoints write them).
// The official layout is read as stored (the index of a sharded DiT maps its
// shards and parses headers only); ComfyUI files through
// io::OpenComfyCheckpoint, so tensors carry the official names. The
// low-noise expert is `Component::kDitLowNoise`. Errors: FindModelFiles'
// (NotFound naming `dir` and the missing DiT files, InvalidArgument), and
// DataLoss / InvalidArgument from the header parsers.
absl::StatusOr<ModelHeaders> ReadModelHeaders(const std::string& dir);

// Bytes the component's weights occupy once loaded in `precision`: floating
// tensors at PrecisionBytes (integer tensors keep their size). kFp8 (DiT or
// either expert):
// the tensors that quant::Fp8Policy::WanDit() selects take 1 byte per element
// plus a 4-byte scale; the rest is held in `fp8_rest` (the compute dtype:
// bf16 on GPU, fp32 on CPU). CLIP counts only the `visual.` tower when the
// file also holds the text tower (the pipeline loads the visual tower only).
uint64_t ResidentBytes(const ComponentHeaders& headers, Precision precision,
                       Precision fp8_rest = Precision::kBf16);

// The largest single tensor of the component as stored (the transient of a
// streaming load), bytes.
uint64_t LargestTensorBytes(const ComponentHeaders& headers);

// DiT sizes read from its tensor shapes.
struct DitGeometry {
  int64_t dim = 0, ffn_dim = 0, num_layers = 0, num_heads = 0;
  int64_t in_dim = 0;   // patch_embedding input channels: 16 t2v, 36 i2v (Wan2.1 and I2V-A14B), 48 TI2V-5B
  int64_t out_dim = 0;  // latent channels predicted: 16 (Wan2.1 VAE), 48 (Wan2.2 VAE)
  // CLIP image context present (img_emb, k_img/v_img: Wan2.1 i2v / flf2v).
  // False for every Wan2.2 DiT, I2V-A14B included (its image enters as
  // latent channels: in_dim 36 without img_emb).
  bool image_input = false;
  // Time conditioning per token ([L, 6, dim] fp32 modulation rows) rather than
  // per sample: the TI2V-5B DiT (48 latent channels), whose image latent frame
  // has its own timestep.
  bool per_token_timesteps = false;
};
// The geometry of `dit` (kDit, or kDitLowNoise for the low-noise expert).
// InvalidArgument naming the tensor when an expected DiT tensor is missing,
// or naming `dit` when the headers lack it.
absl::StatusOr<DitGeometry> ReadDitGeometry(const ModelHeaders& headers, Component dit = Component::kDit);

// The VAE the model decodes with: io::ClassifyVae of the VAE's tensors when
// the headers hold them, else from the DiT's latent channels (48: the Wan2.2
// VAE; otherwise the Wan2.1 VAE). InvalidArgument when the VAE is of unknown
// kind or disagrees with the DiT (a 48-channel DiT with the Wan2.1 VAE, or the
// reverse); ReadDitGeometry's errors.
absl::StatusOr<io::VaeKind> ReadVaeKind(const ModelHeaders& headers);

}  // namespace videogen::memory
