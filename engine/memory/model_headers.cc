#include "engine/memory/model_headers.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/io/model_dir.h"
#include "engine/io/safetensors.h"
#include "engine/quant/policy.h"

namespace videogen::memory {
namespace fs = std::filesystem;

const ComponentHeaders* ModelHeaders::Find(Component c) const {
  for (const ComponentHeaders& h : components) {
    if (h.component == c) return &h;
  }
  return nullptr;
}

namespace {

// Tensor list of a checkpoint without reading data: safetensors headers, or
// the index of a .pth (its pickle and zip directory; storages stay unread).
absl::StatusOr<std::vector<io::TensorInfo>> ReadTensorList(const std::string& path) {
  if (absl::EndsWith(path, ".safetensors")) return io::ReadSafetensorsHeader(path);
  ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(path));
  return source->tensors();
}

std::string Stem(const char* file) {
  const std::string f(file);
  return f.substr(0, f.rfind('.'));
}

}  // namespace

absl::StatusOr<ModelHeaders> ReadModelHeaders(const std::string& dir) {
  ModelHeaders model;
  model.dir = dir;
  const fs::path root(dir);
  ComponentHeaders dit{Component::kDit, "", {}};
  if (fs::exists(root / io::kDitIndexFile)) {
    dit.path = (root / io::kDitIndexFile).string();
    ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(dit.path));  // maps the shards, parses headers only
    dit.tensors = source->tensors();
  } else if (fs::exists(root / io::kDitWeightsFile)) {
    dit.path = (root / io::kDitWeightsFile).string();
    ASSIGN_OR_RETURN(dit.tensors, io::ReadSafetensorsHeader(dit.path));
  } else {
    return absl::NotFoundError(absl::StrCat(dir, ": no ", io::kDitWeightsFile, " or ", io::kDitIndexFile));
  }
  model.components.push_back(std::move(dit));
  const std::pair<Component, const char*> encoders[] = {
      {Component::kT5, io::kT5File}, {Component::kClip, io::kClipFile}, {Component::kVae, io::kVaeFile}};
  for (const auto& [component, file] : encoders) {
    for (const std::string& name : {std::string(file), Stem(file) + ".safetensors"}) {
      if (!fs::exists(root / name)) continue;
      ComponentHeaders h{component, (root / name).string(), {}};
      ASSIGN_OR_RETURN(h.tensors, ReadTensorList(h.path));
      model.components.push_back(std::move(h));
      break;
    }
  }
  if (std::ifstream in(root / io::kDitConfigFile); in) {
    const nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (config.is_object() && config.contains("num_heads") && config["num_heads"].is_number_integer()) {
      model.dit_num_heads = config["num_heads"].get<int64_t>();
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
  uint64_t total = 0;
  for (const io::TensorInfo& t : headers.tensors) {
    if (visual_only && !absl::StartsWith(t.name, "visual.")) continue;
    if (quant::kScaledFp8Marker == t.name) continue;
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    if (!io::IsFloatingPoint(t.dtype)) {
      total += t.nbytes;
    } else if (precision == Precision::kFp8 && headers.component == Component::kDit) {
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

absl::StatusOr<DitGeometry> ReadDitGeometry(const ModelHeaders& headers) {
  const ComponentHeaders* dit = headers.Find(Component::kDit);
  if (dit == nullptr) return absl::InvalidArgumentError("dit: no DiT headers");
  auto shape = [&](const std::string& name) -> absl::StatusOr<std::vector<int64_t>> {
    for (const io::TensorInfo& t : dit->tensors) {
      if (t.name == name) return t.shape;
    }
    return absl::InvalidArgumentError(absl::StrCat("dit: tensor '", name, "' not found in ", dit->path));
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
  std::set<std::string> blocks;
  for (const io::TensorInfo& t : dit->tensors) {
    if (absl::StartsWith(t.name, "blocks.")) blocks.insert(t.name.substr(7, t.name.find('.', 7) - 7));
    if (absl::StartsWith(t.name, "img_emb.")) g.image_input = true;
  }
  g.num_layers = static_cast<int64_t>(blocks.size());
  g.num_heads = headers.dit_num_heads.value_or(g.dim / 128);  // every official Wan2.1 DiT has head_dim 128
  return g;
}

}  // namespace videogen::memory
