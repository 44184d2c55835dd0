#include "engine/models/dit/config.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/models/common/config_json.h"

namespace videogen::models {
namespace {

using json = nlohmann::json;

}  // namespace

std::string_view ModelTypeName(WanModelType type) {
  switch (type) {
    case WanModelType::kT2V: return "t2v";
    case WanModelType::kI2V: return "i2v";
    case WanModelType::kFLF2V: return "flf2v";
    case WanModelType::kTI2V: return "ti2v";
  }
  return "?";
}

absl::StatusOr<WanConfig> WanConfig::FromJson(const json& j, WanVersion version) {
  if (!j.is_object()) return absl::InvalidArgumentError("config: must be an object");
  WanConfig c;
  c.version = version;
  if (j.contains("model_type")) {
    const std::string t = j["model_type"].is_string() ? j["model_type"].get<std::string>() : "";
    if (t == "t2v") {
      c.model_type = WanModelType::kT2V;
    } else if (t == "i2v") {
      c.model_type = WanModelType::kI2V;
    } else if (t == "flf2v" && version == WanVersion::kWan21) {
      c.model_type = WanModelType::kFLF2V;
    } else if (t == "ti2v") {
      c.model_type = WanModelType::kTI2V;
      c.version = WanVersion::kWan22;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("config.model_type: unsupported '", t, "' (",
                                                     version == WanVersion::kWan21 ? "t2v, i2v, flf2v, ti2v"
                                                                                   : "t2v, i2v, ti2v",
                                                     ")"));
    }
  }
  if (j.contains("patch_size")) {
    const json& p = j["patch_size"];
    if (!p.is_array() || p.size() != 3) return absl::InvalidArgumentError("config.patch_size: must be 3 integers");
    for (int i = 0; i < 3; ++i) {
      if (!p[i].is_number_integer() || p[i].get<int64_t>() <= 0) {
        return absl::InvalidArgumentError("config.patch_size: must be 3 positive integers");
      }
      c.patch_size[i] = p[i].get<int64_t>();
    }
  }
  for (auto [key, field] : {std::pair{"text_len", &c.text_len}, {"in_dim", &c.in_dim}, {"dim", &c.dim},
                            {"ffn_dim", &c.ffn_dim}, {"freq_dim", &c.freq_dim}, {"text_dim", &c.text_dim},
                            {"out_dim", &c.out_dim}, {"num_heads", &c.num_heads}, {"num_layers", &c.num_layers}}) {
    if (auto s = ReadPositiveInt(j, key, field); !s.ok()) return s;
  }
  if (auto s = ReadBool(j, "qk_norm", &c.qk_norm); !s.ok()) return s;
  if (auto s = ReadBool(j, "cross_attn_norm", &c.cross_attn_norm); !s.ok()) return s;
  if (j.contains("eps")) {
    if (!j["eps"].is_number() || j["eps"].get<double>() <= 0) {
      return absl::InvalidArgumentError("config.eps: must be a positive number");
    }
    c.eps = j["eps"].get<double>();
  }
  if (j.contains("window_size")) {
    const json& w = j["window_size"];
    if (!w.is_array() || w.size() != 2 || w[0] != -1 || w[1] != -1) {
      return absl::InvalidArgumentError("config.window_size: only global attention [-1, -1] is supported");
    }
  }
  if (c.dim % c.num_heads != 0 || c.head_dim() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.num_heads: dim ", c.dim, " must split into heads of even size"));
  }
  if (c.freq_dim % 2 != 0) return absl::InvalidArgumentError("config.freq_dim: must be even");
  return c;
}

WanConfig WanConfig::T2V_1_3B() {
  WanConfig c;
  c.dim = 1536;
  c.ffn_dim = 8960;
  c.num_heads = 12;
  c.num_layers = 30;
  return c;
}

WanConfig WanConfig::T2V_14B() {
  WanConfig c;
  c.dim = 5120;
  c.ffn_dim = 13824;
  c.num_heads = 40;
  c.num_layers = 40;
  return c;
}

WanConfig WanConfig::I2V_14B() {
  WanConfig c = T2V_14B();
  c.model_type = WanModelType::kI2V;
  c.in_dim = 36;
  return c;
}

WanConfig WanConfig::FLF2V_14B() {
  WanConfig c = I2V_14B();
  c.model_type = WanModelType::kFLF2V;
  return c;
}

WanConfig WanConfig::T2V_A14B() {
  WanConfig c = T2V_14B();
  c.version = WanVersion::kWan22;
  return c;
}

WanConfig WanConfig::I2V_A14B() {
  WanConfig c = T2V_A14B();
  c.model_type = WanModelType::kI2V;
  c.in_dim = 36;
  return c;
}

WanConfig WanConfig::TI2V_5B() {
  WanConfig c;
  c.version = WanVersion::kWan22;
  c.model_type = WanModelType::kTI2V;
  c.in_dim = 48;
  c.out_dim = 48;
  c.dim = 3072;
  c.ffn_dim = 14336;
  c.num_heads = 24;
  c.num_layers = 30;
  return c;
}

bool WanConfig::SameArchitecture(const WanConfig& o) const {
  const bool same_version = version == o.version || (!has_y_input() && !o.has_y_input());
  return same_version && model_type == o.model_type && patch_size == o.patch_size && in_dim == o.in_dim && dim == o.dim &&
         ffn_dim == o.ffn_dim && freq_dim == o.freq_dim && text_dim == o.text_dim && out_dim == o.out_dim &&
         num_heads == o.num_heads && num_layers == o.num_layers && qk_norm == o.qk_norm &&
         cross_attn_norm == o.cross_attn_norm;
}

absl::StatusOr<WanConfig> WanConfig::FromTensorShapes(const io::TensorSource& source) {
  auto shape = [&](const std::string& name, size_t rank) -> absl::StatusOr<std::vector<int64_t>> {
    const io::TensorInfo* info = source.Find(name);
    if (info == nullptr || info->shape.size() != rank) {
      return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": cannot infer the DiT config: tensor '",
                                                     name, "' is missing or not of rank ", rank,
                                                     " (add a config.json)"));
    }
    return info->shape;
  };
  WanConfig c;
  ASSIGN_OR_RETURN(const std::vector<int64_t> patch, shape("patch_embedding.weight", 5));
  ASSIGN_OR_RETURN(const std::vector<int64_t> ffn, shape("blocks.0.ffn.0.weight", 2));
  ASSIGN_OR_RETURN(const std::vector<int64_t> text, shape("text_embedding.0.weight", 2));
  ASSIGN_OR_RETURN(const std::vector<int64_t> time, shape("time_embedding.0.weight", 2));
  ASSIGN_OR_RETURN(const std::vector<int64_t> head, shape("head.head.weight", 2));
  c.dim = patch[0];
  c.in_dim = patch[1];
  c.patch_size = {patch[2], patch[3], patch[4]};
  c.ffn_dim = ffn[0];
  c.text_dim = text[1];
  c.freq_dim = time[1];
  c.out_dim = head[0] / (patch[2] * patch[3] * patch[4]);
  constexpr int64_t kHeadDim = 128;
  if (c.dim % kHeadDim != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": cannot infer num_heads for dim ", c.dim,
                                                   " (not a multiple of 128; add a config.json)"));
  }
  c.num_heads = c.dim / kHeadDim;
  c.num_layers = 0;
  while (source.Find(absl::StrCat("blocks.", c.num_layers, ".self_attn.q.weight")) != nullptr) ++c.num_layers;
  c.qk_norm = source.Find("blocks.0.self_attn.norm_q.weight") != nullptr;
  c.cross_attn_norm = source.Find("blocks.0.norm3.weight") != nullptr;
  if (source.Find("img_emb.emb_pos") != nullptr) {
    c.model_type = WanModelType::kFLF2V;
  } else if (source.Find("img_emb.proj.0.weight") != nullptr) {
    c.model_type = WanModelType::kI2V;
  } else if (c.in_dim == 48) {
    c.model_type = WanModelType::kTI2V;
    c.version = WanVersion::kWan22;
  } else if (c.in_dim == c.out_dim + 20) {
    c.model_type = WanModelType::kI2V;
    c.version = WanVersion::kWan22;
  } else {
    c.model_type = WanModelType::kT2V;
  }
  return c;
}

}  // namespace videogen::models
