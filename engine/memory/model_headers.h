// The tensors of a model directory's components, from checkpoint headers
// alone (no tensor data is read), and what they cost once resident.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"
#include "engine/memory/placement.h"

namespace videogen::memory {

struct ComponentHeaders {
  Component component = Component::kDit;
  std::string path;                   // the file (or index) read
  std::vector<io::TensorInfo> tensors;
};

struct ModelHeaders {
  std::string dir;
  std::vector<ComponentHeaders> components;  // DiT first; absent encoders are omitted
  std::optional<int64_t> dit_num_heads;      // config.json "num_heads" when present

  const ComponentHeaders* Find(Component c) const;
};

// Reads the headers of the components in `dir`, official layout
// (engine/io/model_dir.h): the DiT from diffusion_pytorch_model.safetensors
// (.index.json when sharded) and each encoder from its official `.pth`, or
// from a `.safetensors` file of the same stem (synthetic stand-ins).
// NotFound naming `dir` when it holds no DiT; DataLoss / InvalidArgument from
// the header parsers. T5, CLIP and VAE are optional here.
absl::StatusOr<ModelHeaders> ReadModelHeaders(const std::string& dir);

// Bytes the component's weights occupy once loaded in `precision`: floating
// tensors at PrecisionBytes (integer tensors keep their size). kFp8 (DiT):
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
  int64_t dim = 0, ffn_dim = 0, num_layers = 0, num_heads = 0, in_dim = 0, out_dim = 0;
  bool image_input = false;  // img_emb present (i2v / flf2v)
};
// InvalidArgument naming the tensor when an expected DiT tensor is missing.
absl::StatusOr<DitGeometry> ReadDitGeometry(const ModelHeaders& headers);

}  // namespace videogen::memory
