#include "engine/io/comfy_layout.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include <ATen/ATen.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/status_macros.h"
#include "engine/io/safetensors.h"

namespace videogen::io {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kDitPrefix = "model.diffusion_model.";

// Debian's abseil has its own string_view; TensorSource uses std::string_view.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool Has(const std::vector<TensorInfo>& tensors, std::string_view name) {
  return std::any_of(tensors.begin(), tensors.end(), [&](const TensorInfo& t) { return t.name == name; });
}

bool HasPrefix(const std::vector<TensorInfo>& tensors, absl::string_view prefix) {
  return std::any_of(tensors.begin(), tensors.end(),
                     [&](const TensorInfo& t) { return absl::StartsWith(t.name, prefix); });
}

// The shape of tensor `name`; null when absent.
const std::vector<int64_t>* Shape(const std::vector<TensorInfo>& tensors, std::string_view name) {
  for (const TensorInfo& t : tensors) {
    if (t.name == name) return &t.shape;
  }
  return nullptr;
}

// The HF sub-module of one encoder layer -> the official one.
std::optional<std::string> T5LayerModule(absl::string_view layer, absl::string_view rest) {
  if (layer == "0") {
    if (rest == "layer_norm") return "norm1";
    if (rest == "SelfAttention.relative_attention_bias") return "pos_embedding.embedding";
    for (absl::string_view p : {"q", "k", "v", "o"}) {
      if (rest == absl::StrCat("SelfAttention.", p)) return absl::StrCat("attn.", p);
    }
  } else if (layer == "1") {
    if (rest == "layer_norm") return "norm2";
    // HF umT5: wo(gelu(wi_0(x)) * wi_1(x)); official T5FeedForward:
    // fc2(fc1(x) * gate(x)) with gate = Sequential(Linear, GELU).
    if (rest == "DenseReluDense.wi_0") return "ffn.gate.0";
    if (rest == "DenseReluDense.wi_1") return "ffn.fc1";
    if (rest == "DenseReluDense.wo") return "ffn.fc2";
  }
  return std::nullopt;
}

// Splits "a.b.c.weight" into ("a.b.c", "weight").
std::pair<absl::string_view, absl::string_view> SplitLeaf(absl::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

bool IsT5Leaf(absl::string_view leaf) {
  return leaf == "weight" || leaf == "scale_weight" || leaf == "weight_scale" || leaf == "scale_input" ||
         leaf == "input_scale";
}

bool IsOfficialT5(const std::vector<TensorInfo>& t) {
  return Has(t, "token_embedding.weight") && Has(t, "blocks.0.attn.q.weight");
}
bool IsHfT5(const std::vector<TensorInfo>& t) {
  return HasPrefix(t, "encoder.block.0.layer.0.SelfAttention.") &&
         (Has(t, "shared.weight") || Has(t, "encoder.embed_tokens.weight"));
}
bool IsDit(const std::vector<TensorInfo>& t) {
  for (absl::string_view prefix : {absl::string_view(""), kDitPrefix}) {
    if (Has(t, absl::StrCat(prefix, "patch_embedding.weight")) &&
        Has(t, absl::StrCat(prefix, "blocks.0.self_attn.q.weight"))) {
      return true;
    }
  }
  return false;
}
bool IsVae(const std::vector<TensorInfo>& t) {
  return Has(t, "encoder.conv1.weight") && Has(t, "decoder.conv1.weight") && Has(t, "conv1.weight");
}
bool IsOfficialClip(const std::vector<TensorInfo>& t) { return Has(t, "visual.patch_embedding.weight"); }
bool IsHfClip(const std::vector<TensorInfo>& t) {
  return HasPrefix(t, "vision_model.embeddings.") || HasPrefix(t, "visual.transformer.resblocks.");
}

}  // namespace

std::string_view ComfyComponentName(ComfyComponent component) {
  switch (component) {
    case ComfyComponent::kDit: return "dit";
    case ComfyComponent::kT5: return "t5";
    case ComfyComponent::kClip: return "clip";
    case ComfyComponent::kVae: return "vae";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<RenamingTensorSource>> RenamingTensorSource::Create(
    std::unique_ptr<TensorSource> base, const TensorRenamer& rename, std::vector<DerivedTensor> derived) {
  std::vector<std::pair<TensorInfo, std::string>> entries;
  for (const TensorInfo& info : base->tensors()) {
    std::optional<std::string> name = rename(info.name);
    if (!name.has_value()) continue;
    TensorInfo renamed = info;
    renamed.name = std::move(*name);
    entries.emplace_back(std::move(renamed), info.name);
  }
  for (const DerivedTensor& d : derived) {
    const TensorInfo* first = d.parts.empty() ? nullptr : base->Find(d.parts[0]);
    int64_t parts_numel = 0;
    for (const std::string& part : d.parts) {
      const TensorInfo* info = base->Find(part);
      if (info == nullptr || first == nullptr || info->dtype != first->dtype) {
        return absl::InvalidArgumentError(absl::StrCat(base->Describe(), ": cannot build '", d.name, "': part '", part,
                                                       "' is missing or of another dtype"));
      }
      int64_t n = 1;
      for (int64_t s : info->shape) n *= s;
      parts_numel += n;
    }
    int64_t numel = 1;
    for (int64_t s : d.shape) numel *= s;
    if (first == nullptr || numel != parts_numel) {
      return absl::InvalidArgumentError(absl::StrCat(base->Describe(), ": cannot build '", d.name, "' from ",
                                                     d.parts.size(), " tensors of ", parts_numel, " elements"));
    }
    TensorInfo info = *first;
    info.name = d.name;
    info.shape = d.shape;
    info.nbytes = static_cast<uint64_t>(numel * DTypeSize(first->dtype));
    entries.emplace_back(std::move(info), "");
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first.name < b.first.name; });
  std::vector<TensorInfo> tensors;
  std::vector<std::string> stored;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!tensors.empty() && entries[i].first.name == tensors.back().name) {
      return absl::InvalidArgumentError(absl::StrCat(base->Describe(), ": tensors '", stored.back(),
                                                     "' and '", entries[i].second, "' both map to '",
                                                     entries[i].first.name, "'"));
    }
    tensors.push_back(std::move(entries[i].first));
    stored.push_back(std::move(entries[i].second));
  }
  return std::unique_ptr<RenamingTensorSource>(
      new RenamingTensorSource(std::move(base), std::move(tensors), std::move(stored), std::move(derived)));
}

std::string RenamingTensorSource::StoredName(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) return "";
  return stored_[static_cast<size_t>(it - tensors_.begin())];
}

absl::StatusOr<torch::Tensor> RenamingTensorSource::Read(std::string_view name) const {
  const std::string stored = StoredName(name);
  if (!stored.empty()) return base_->Read(stored);
  for (const DerivedTensor& d : derived_) {
    if (d.name != name) continue;
    std::vector<torch::Tensor> parts;
    for (const std::string& part : d.parts) {
      ASSIGN_OR_RETURN(torch::Tensor t, base_->Read(part));
      parts.push_back(t.reshape({-1}));
    }
    return at::cat(parts, 0).view(d.shape);
  }
  return absl::NotFoundError(absl::StrCat(Describe(), ": no tensor '", AV(name), "'"));
}

void RenamingTensorSource::Release(std::string_view name) const {
  const std::string stored = StoredName(name);
  if (!stored.empty()) base_->Release(stored);
  for (const DerivedTensor& d : derived_) {
    if (d.name != name) continue;
    for (const std::string& part : d.parts) base_->Release(part);
  }
}

std::string RenamingTensorSource::Describe() const { return absl::StrCat(base_->Describe(), " (renamed)"); }

std::optional<std::string> T5OfficialName(std::string_view std_name) {
  const absl::string_view name = AV(std_name);
  if (name == "shared.weight") return "token_embedding.weight";
  if (name == "encoder.final_layer_norm.weight") return "norm.weight";
  if (name == "scaled_fp8") return std::string(name);
  absl::string_view rest = name;
  if (absl::ConsumePrefix(&rest, "encoder.block.")) {
    // N.layer.L.<module>.<leaf>
    const std::vector<absl::string_view> parts = absl::StrSplit(rest, absl::MaxSplits('.', 3));
    int block = 0;
    if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &block) || parts[1] != "layer") return std::nullopt;
    const auto [module, leaf] = SplitLeaf(parts[3]);
    if (!IsT5Leaf(leaf)) return std::nullopt;
    std::optional<std::string> official = T5LayerModule(parts[2], module);
    if (!official.has_value()) return std::nullopt;
    return absl::StrCat("blocks.", block, ".", *official, ".", leaf);
  }
  // Official names pass through.
  if (absl::StartsWith(name, "blocks.") || name == "token_embedding.weight" || name == "norm.weight" ||
      absl::StartsWith(name, "pos_embedding.")) {
    return std::string(name);
  }
  return std::nullopt;  // decoder.*, lm_head.*, encoder.embed_tokens.*, spiece_model, ...
}

std::optional<std::string> ClipOfficialName(std::string_view std_name) {
  const absl::string_view name = AV(std_name);
  if (name == "vision_model.embeddings.patch_embedding.weight") return "visual.patch_embedding.weight";
  absl::string_view rest = name;
  if (absl::ConsumePrefix(&rest, "vision_model.pre_layrnorm.")) return absl::StrCat("visual.pre_norm.", rest);
  if (absl::ConsumePrefix(&rest, "vision_model.post_layernorm.")) return absl::StrCat("visual.post_norm.", rest);
  if (!absl::ConsumePrefix(&rest, "vision_model.encoder.layers.")) return std::nullopt;
  const size_t dot = rest.find('.');
  int block = 0;
  if (dot == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, dot), &block)) return std::nullopt;
  const absl::string_view tail = rest.substr(dot + 1);
  const auto [module, leaf] = SplitLeaf(tail);
  if (leaf != "weight" && leaf != "bias") return std::nullopt;
  std::string official;
  if (module == "layer_norm1") {
    official = "norm1";
  } else if (module == "layer_norm2") {
    official = "norm2";
  } else if (module == "self_attn.out_proj") {
    official = "attn.proj";
  } else if (module == "mlp.fc1") {
    official = "mlp.0";
  } else if (module == "mlp.fc2") {
    official = "mlp.2";
  } else {
    return std::nullopt;  // q/k/v_proj are fused into to_qkv
  }
  return absl::StrCat("visual.transformer.", block, ".", official, ".", leaf);
}

namespace {

// HF CLIPVisionModel -> the official VisionTransformer under `visual.`.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenHfClip(std::unique_ptr<TensorSource> base) {
  std::vector<DerivedTensor> derived;
  const TensorInfo* cls = base->Find("vision_model.embeddings.class_embedding");
  const TensorInfo* pos = base->Find("vision_model.embeddings.position_embedding.weight");
  if (cls == nullptr || cls->shape.size() != 1 || pos == nullptr || pos->shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(base->Describe(), ": HF CLIP vision file without "
                                                   "vision_model.embeddings.class_embedding [D] and "
                                                   "position_embedding.weight [T, D]"));
  }
  derived.push_back({"visual.cls_embedding", {cls->name}, {1, 1, cls->shape[0]}});
  derived.push_back({"visual.pos_embedding", {pos->name}, {1, pos->shape[0], pos->shape[1]}});
  for (int block = 0;; ++block) {
    const std::string attn = absl::StrCat("vision_model.encoder.layers.", block, ".self_attn.");
    const TensorInfo* q = base->Find(attn + "q_proj.weight");
    if (q == nullptr) break;
    for (const char* leaf : {"weight", "bias"}) {
      std::vector<std::string> parts;
      for (const char* p : {"q_proj.", "k_proj.", "v_proj."}) parts.push_back(absl::StrCat(attn, p, leaf));
      std::vector<int64_t> shape = {3 * q->shape[0]};
      if (std::string_view(leaf) == "weight") shape.push_back(q->shape[1]);
      derived.push_back({absl::StrCat("visual.transformer.", block, ".attn.to_qkv.", leaf), parts, shape});
    }
  }
  return RenamingTensorSource::Create(std::move(base), ClipOfficialName, std::move(derived));
}

}  // namespace

std::optional<ComfyComponent> ClassifyHeader(const std::vector<TensorInfo>& tensors) {
  if (IsDit(tensors)) return ComfyComponent::kDit;
  if (IsOfficialT5(tensors) || IsHfT5(tensors)) return ComfyComponent::kT5;
  if (IsOfficialClip(tensors) || IsHfClip(tensors)) return ComfyComponent::kClip;
  if (IsVae(tensors)) return ComfyComponent::kVae;
  return std::nullopt;
}

std::optional<VaeKind> ClassifyVae(const std::vector<TensorInfo>& tensors) {
  auto kind = [](int64_t rgb_channels) -> std::optional<VaeKind> {
    if (rgb_channels == 3) return VaeKind::kWan21;
    if (rgb_channels == 12) return VaeKind::kWan22;  // 3 x the 2x2 patch
    return std::nullopt;
  };
  const std::vector<int64_t>* encoder = Shape(tensors, "encoder.conv1.weight");
  if (encoder != nullptr && encoder->size() == 5) return kind((*encoder)[1]);
  const std::vector<int64_t>* head = Shape(tensors, "decoder.head.2.weight");
  if (head != nullptr && head->size() == 5) return kind((*head)[0]);
  return std::nullopt;
}

std::optional<int64_t> DitLatentChannels(const std::vector<TensorInfo>& tensors) {
  for (absl::string_view prefix : {absl::string_view(""), kDitPrefix}) {
    const std::vector<int64_t>* head = Shape(tensors, absl::StrCat(prefix, "head.head.weight"));
    if (head != nullptr && head->size() == 2) return (*head)[0] / 4;  // patch (1, 2, 2)
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenComfyCheckpoint(const std::string& path,
                                                                  ComfyComponent component) {
  ASSIGN_OR_RETURN(std::unique_ptr<TensorSource> base, OpenSafetensors(path));
  const std::vector<TensorInfo>& t = base->tensors();
  const std::optional<ComfyComponent> kind = ClassifyHeader(t);
  if (kind != component) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected the tensors of a Wan ",
                                                   AV(ComfyComponentName(component)), " checkpoint, found ",
                                                   kind ? AV(ComfyComponentName(*kind)) : "none of dit/t5/clip/vae"));
  }
  switch (component) {
    case ComfyComponent::kDit: {
      if (!HasPrefix(t, kDitPrefix)) return base;
      // Strip the prefix; names outside it (the `scaled_fp8` marker) keep theirs.
      return RenamingTensorSource::Create(std::move(base), [](std::string_view name) -> std::optional<std::string> {
        absl::string_view rest = AV(name);
        absl::ConsumePrefix(&rest, kDitPrefix);
        return std::string(rest);
      });
    }
    case ComfyComponent::kT5: {
      if (IsOfficialT5(t)) return base;
      for (const TensorInfo& info : t) {
        if (absl::EndsWith(info.name, ".scale_weight") || absl::EndsWith(info.name, ".weight_scale")) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": a scaled-fp8 umT5 file (tensor '", info.name,
              "'); the T5 encoder has no scaled fp8 layers: use an fp16/bf16/fp32 or unscaled fp8_e4m3fn umT5 file"));
        }
      }
      // ComfyUI files carry either shared.weight or encoder.embed_tokens.weight (or both, tied).
      const bool has_shared = Has(t, "shared.weight");
      return RenamingTensorSource::Create(
          std::move(base), [has_shared](std::string_view name) -> std::optional<std::string> {
            if (!has_shared && name == "encoder.embed_tokens.weight") return "token_embedding.weight";
            return T5OfficialName(name);
          });
    }
    case ComfyComponent::kClip:
      if (HasPrefix(t, "visual.transformer.resblocks.")) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": CLIP vision weights in the open_clip naming (visual.transformer.resblocks.*) are not "
                  "supported; use ComfyUI's clip_vision_h.safetensors (HF naming) or the official "
                  "models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth"));
      }
      if (HasPrefix(t, "vision_model.")) return OpenHfClip(std::move(base));
      return base;
    case ComfyComponent::kVae:
      return base;
  }
  return base;
}

namespace {

// One classified ComfyUI file.
struct Classified {
  std::string path;
  std::vector<TensorInfo> header;
};

absl::Status Several(const std::string& dir, absl::string_view what, const std::vector<const Classified*>& files) {
  std::vector<std::string> paths;
  for (const Classified* f : files) paths.push_back(f->path);
  return absl::InvalidArgumentError(
      absl::StrCat("model directory ", dir, " holds several ", what, " files: ", absl::StrJoin(paths, ", ")));
}

// The role of a DiT file from its name: the experts of a Wan2.2 pair have the same shapes.
enum class DitRole { kSingle, kHighNoise, kLowNoise };
DitRole RoleOf(const std::string& path) {
  const std::string name = absl::AsciiStrToLower(fs::path(path).filename().string());
  if (absl::StrContains(name, "high_noise")) return DitRole::kHighNoise;
  if (absl::StrContains(name, "low_noise")) return DitRole::kLowNoise;
  return DitRole::kSingle;
}

// InvalidArgument naming the first tensor in which the two experts' headers differ.
absl::Status CheckSameTensors(const Classified& high, const Classified& low) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const TensorInfo& t : high.header) shapes[t.name] = t.shape;
  for (const TensorInfo& t : low.header) {
    auto it = shapes.find(t.name);
    if (it == shapes.end() || it->second != t.shape) {
      return absl::InvalidArgumentError(absl::StrCat("the expert files ", high.path, " and ", low.path,
                                                     " do not hold the same tensors: '", t.name, "' differs"));
    }
    shapes.erase(it);
  }
  if (!shapes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the expert files ", high.path, " and ", low.path,
                                                   " do not hold the same tensors: '", shapes.begin()->first,
                                                   "' is only in the first"));
  }
  return absl::OkStatus();
}

// Sets the DiT fields of `files` from the classified DiT files.
absl::Status AssignDits(const std::string& dir, const std::vector<Classified>& dits, ComfyFiles& files) {
  std::map<DitRole, std::vector<const Classified*>> by_role;
  std::vector<const Classified*> all;
  for (const Classified& d : dits) {
    by_role[RoleOf(d.path)].push_back(&d);
    all.push_back(&d);
  }
  const auto& single = by_role[DitRole::kSingle];
  const auto& high = by_role[DitRole::kHighNoise];
  const auto& low = by_role[DitRole::kLowNoise];
  if (single.size() > 1 || (!single.empty() && (!high.empty() || !low.empty()))) return Several(dir, "dit", all);
  if (high.size() > 1) return Several(dir, "high-noise dit", high);
  if (low.size() > 1) return Several(dir, "low-noise dit", low);
  if (!high.empty() && !low.empty()) RETURN_IF_ERROR(CheckSameTensors(*high[0], *low[0]));
  if (!single.empty()) files.dit = single[0]->path;
  if (!high.empty()) files.dit_high_noise = high[0]->path;
  if (!low.empty()) files.dit_low_noise = low[0]->path;
  return absl::OkStatus();
}

// A VAE's latent channels: the rows of conv2 (z_dim x z_dim x 1x1x1), else its kind's.
int64_t VaeZDim(const std::vector<TensorInfo>& header, VaeKind kind) {
  const std::vector<int64_t>* conv2 = Shape(header, "conv2.weight");
  return conv2 != nullptr && !conv2->empty() ? (*conv2)[0] : VaeLatentChannels(kind);
}

// Sets the VAE fields of `files`: the only VAE, or the one of the DiT's latent channels.
absl::Status AssignVae(const std::string& dir, const std::vector<Classified>& vaes, std::optional<int64_t> dit_channels,
                       ComfyFiles& files) {
  std::vector<const Classified*> matching;
  std::vector<const Classified*> all;
  for (const Classified& v : vaes) {
    const std::optional<VaeKind> kind = ClassifyVae(v.header);
    if (!kind.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          v.path, ": a VAE whose encoder input is neither RGB (the Wan2.1 VAE) nor 2x2-patchified RGB (Wan2.2)"));
    }
    all.push_back(&v);
    if (!dit_channels.has_value() || VaeZDim(v.header, *kind) == *dit_channels) matching.push_back(&v);
  }
  if (all.empty()) return absl::OkStatus();
  const Classified* vae = all.size() == 1 ? all[0] : matching.size() == 1 ? matching[0] : nullptr;
  if (vae == nullptr) return Several(dir, "vae", matching.empty() ? all : matching);
  files.vae = vae->path;
  files.vae_kind = *ClassifyVae(vae->header);
  const int64_t z_dim = VaeZDim(vae->header, files.vae_kind);
  if (dit_channels.has_value() && z_dim != *dit_channels) {
    return absl::InvalidArgumentError(absl::StrCat("model directory ", dir, ": the DiT predicts ", *dit_channels,
                                                   "-channel latents but ", files.vae, " is a ",
                                                   VaeKindName(files.vae_kind), " VAE of ", z_dim, " channels"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ComfyFiles> DetectComfyFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> candidates;
  auto scan = [&](const fs::path& d) {
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".safetensors") candidates.push_back(it->path());
    }
  };
  scan(dir);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) scan(it->path());
  }
  std::sort(candidates.begin(), candidates.end());
  std::map<ComfyComponent, std::vector<Classified>> found;
  for (const fs::path& p : candidates) {
    // Shards of an official sharded DiT are not single files.
    if (absl::StartsWith(p.filename().string(), "diffusion_pytorch_model")) continue;
    ASSIGN_OR_RETURN(std::vector<TensorInfo> header, ReadSafetensorsHeader(p.string()));
    if (std::optional<ComfyComponent> kind = ClassifyHeader(header)) {
      found[*kind].push_back({p.string(), std::move(header)});
    }
  }
  ComfyFiles files;
  RETURN_IF_ERROR(AssignDits(dir, found[ComfyComponent::kDit], files));
  std::optional<int64_t> dit_channels;
  if (!found[ComfyComponent::kDit].empty()) dit_channels = DitLatentChannels(found[ComfyComponent::kDit][0].header);
  RETURN_IF_ERROR(AssignVae(dir, found[ComfyComponent::kVae], dit_channels, files));
  for (ComfyComponent kind : {ComfyComponent::kT5, ComfyComponent::kClip}) {
    const std::vector<Classified>& paths = found[kind];
    if (paths.size() > 1) {
      std::vector<const Classified*> all;
      for (const Classified& c : paths) all.push_back(&c);
      return Several(dir, AV(ComfyComponentName(kind)), all);
    }
    if (paths.empty()) continue;
    (kind == ComfyComponent::kT5 ? files.t5 : files.clip) = paths[0].path;
  }
  return files;
}

}  // namespace videogen::io
