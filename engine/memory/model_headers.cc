#include "engine/memory/model_headers.h"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/io/comfy_layout.h"
#include "engine/io/model_dir.h"
#include "engine/io/safetensors.h"
#include "engine/quant/policy.h"

namespace videogen::memory {

const ComponentHeaders* ModelHeaders::Find(Component c) const {
  for (const ComponentHeaders& h : components) {
    if (h.component == c) return &h;
  }
  return nullptr;
}

namespace {

// The tensors of one component file under the official names, without
// reading data: safetensors headers, the index of a sharded DiT (its shards'
// headers), the pickle and zip directory of a .pth; ComfyUI files renamed.
absl::StatusOr<std::vector<io::TensorInfo>> ReadTensorList(const io::ModelFiles& files, const std::string& path,
                                                           io::ComfyComponent component) {
  if (files.layout == io::ModelLayout::kComfyUI) {
    ASSIGN_OR_RETURN(auto source, io::OpenComfyCheckpoint(path, component));
    return source->tensors();
  }
  if (absl::EndsWith(path, ".safetensors")) return io::ReadSafetensorsHeader(path);
  ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(path));
  return source->tensors();
}

}  // namespace

absl::StatusOr<ModelHeaders> ReadModelHeaders(const std::string& dir) {
  io::FindModelFilesOptions find;
  find.headers_only = true;
  ASSIGN_OR_RETURN(const io::ModelFiles files, io::FindModelFiles(dir, find));
  ModelHeaders model;
  model.dir = dir;
  const struct {
    Component component;
    const std::string& path;
    io::ComfyComponent comfy;
  } parts[] = {{Component::kDit, files.dit, io::ComfyComponent::kDit},
               {Component::kDitLowNoise, files.dit_low_noise, io::ComfyComponent::kDit},
               {Component::kT5, files.t5, io::ComfyComponent::kT5},
               {Component::kClip, files.clip, io::ComfyComponent::kClip},
               {Component::kVae, files.vae, io::ComfyComponent::kVae}};
  for (const auto& part : parts) {
    if (part.path.empty()) continue;
    ComponentHeaders h{part.component, part.path, {}};
    ASSIGN_OR_RETURN(h.tensors, ReadTensorList(files, part.path, part.comfy));
    model.components.push_back(std::move(h));
  }
  if (!files.dit_config.empty()) {
    if (std::ifstream in(files.dit_config); in) {
      const nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (config.is_object() && config.contains("num_heads") && config["num_heads"].is_number_integer()) {
        model.dit_num_heads = config["num_heads"].get<int64_t>();
      }
    }
  }
  return model;
}

uint64_t ResidentBytes(const ComponentHeaders& headers, Precision precision, Precision fp8_rest) {
  bool visual_only = false;
  if (headers.component == Component::kClip) {
    for (const io::TensorInfo& t : headers.tensors) visual_only = visual_only || absl::StartsWith(t.name, "visual.");
  }
  const quant::Fp8Policy policy = quant::Fp8Policy::WanDit();
  const bool dit = headers.component == Component::kDit || headers.component == Component::kDitLowNoise;
  uint64_t total = 0;
  for (const io::TensorInfo& t : headers.tensors) {
    if (visual_only && !absl::StartsWith(t.name, "visual.")) continue;
    if (quant::kScaledFp8Marker == t.name) continue;
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    if (!io::IsFloatingPoint(t.dtype)) {
      total += t.nbytes;
    } else if (precision == Precision::kFp8 && dit) {
      total += policy.QuantizesTensor(t.name, t.shape) ? numel + 4 : numel * PrecisionBytes(fp8_rest);
    } else {
      total += numel * PrecisionBytes(precision == Precision::kFp8 ? fp8_rest : precision);
    }
  }
  return total;
}

uint64_t LargestTensorBytes(const ComponentHeaders& headers) {
  uint64_t largest = 0;
  for (const io::TensorInfo& t : headers.tensors) largest = std::max<uint64_t>(largest, t.nbytes);
  return largest;
}

absl::StatusOr<DitGeometry> ReadDitGeometry(const ModelHeaders& headers, Component which) {
  const ComponentHeaders* dit = headers.Find(which);
  if (dit == nullptr) return absl::InvalidArgumentError(absl::StrCat(ComponentName(which), ": no DiT headers"));
  auto shape = [&](const std::string& name) -> absl::StatusOr<std::vector<int64_t>> {
    for (const io::TensorInfo& t : dit->tensors) {
      if (t.name == name) return t.shape;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(ComponentName(which), ": tensor '", name, "' not found in ", dit->path));
  };
  DitGeometry g;
  ASSIGN_OR_RETURN(auto q, shape("blocks.0.self_attn.q.weight"));
  ASSIGN_OR_RETURN(auto ffn, shape("blocks.0.ffn.0.weight"));
  ASSIGN_OR_RETURN(auto patch, shape("patch_embedding.weight"));
  ASSIGN_OR_RETURN(auto head, shape("head.head.weight"));
  g.dim = q[0];
  g.ffn_dim = ffn[0];
  g.in_dim = patch.size() > 1 ? patch[1] : 0;
  g.out_dim = head[0] / 4;  // patch (1, 2, 2)
  g.per_token_timesteps = g.out_dim == io::VaeLatentChannels(io::VaeKind::kWan22);
  std::set<std::string> blocks;
  for (const io::TensorInfo& t : dit->tensors) {
    if (absl::StartsWith(t.name, "blocks.")) blocks.insert(t.name.substr(7, t.name.find('.', 7) - 7));
    if (absl::StartsWith(t.name, "img_emb.")) g.image_input = true;
  }
  g.num_layers = static_cast<int64_t>(blocks.size());
  g.num_heads = headers.dit_num_heads.value_or(g.dim / 128);  // every official Wan DiT has head_dim 128
  return g;
}

absl::StatusOr<io::VaeKind> ReadVaeKind(const ModelHeaders& headers) {
  ASSIGN_OR_RETURN(const DitGeometry dit, ReadDitGeometry(headers));
  const io::VaeKind from_dit =
      dit.out_dim == io::VaeLatentChannels(io::VaeKind::kWan22) ? io::VaeKind::kWan22 : io::VaeKind::kWan21;
  const ComponentHeaders* vae = headers.Find(Component::kVae);
  if (vae == nullptr) return from_dit;
  const std::optional<io::VaeKind> kind = io::ClassifyVae(vae->tensors);
  if (!kind.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("vae: ", vae->path, " is neither the Wan2.1 nor the Wan2.2 VAE"));
  }
  if (*kind != from_dit) {
    return absl::InvalidArgumentError(absl::StrCat("vae: ", vae->path, " is the ", io::VaeKindName(*kind),
                                                   " VAE but the DiT predicts ", dit.out_dim, "-channel latents"));
  }
  return *kind;
}

}  // namespace videogen::memory
