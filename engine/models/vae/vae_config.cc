#include "engine/models/vae/vae_config.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace videogen::models::vae {
namespace {

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("vae config: field '", field, "' ", why));
}

absl::StatusOr<const nlohmann::json*> Field(const nlohmann::json& json, const std::string& name) {
  auto it = json.find(name);
  if (it == json.end()) return Invalid(name, "is missing");
  return &*it;
}

absl::StatusOr<int64_t> IntField(const nlohmann::json& json, const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(json, name));
  if (!value->is_number_integer()) return Invalid(name, "must be an integer");
  return value->get<int64_t>();
}

absl::StatusOr<double> NumberField(const nlohmann::json& json, const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(json, name));
  if (!value->is_number()) return Invalid(name, "must be a number");
  return value->get<double>();
}

absl::StatusOr<const nlohmann::json*> ArrayField(const nlohmann::json& json,
                                                 const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(json, name));
  if (!value->is_array()) return Invalid(name, "must be a list");
  return value;
}

}  // namespace

VaeConfig VaeConfig::Wan21() { return VaeConfig{}; }

VaeConfig VaeConfig::Wan22() {
  VaeConfig config;
  config.version = VaeVersion::kWan22;
  config.dim = 160;
  config.dec_dim = 256;
  config.z_dim = 48;
  config.dim_mult = {1, 2, 4, 4};
  config.num_res_blocks = 2;
  config.attn_scales = {};
  config.temperal_downsample = {false, true, true};
  config.dropout = 0.0;
  return config;
}

absl::StatusOr<VaeConfig> VaeConfig::FromJson(const nlohmann::json& json) {
  const bool wan22 = json.is_object() && json.contains("dec_dim");
  return FromJson(json, wan22 ? VaeVersion::kWan22 : VaeVersion::kWan21);
}

absl::StatusOr<VaeConfig> VaeConfig::FromJson(const nlohmann::json& json, VaeVersion version) {
  if (!json.is_object()) return absl::InvalidArgumentError("vae config: expected a JSON object");
  VaeConfig config;
  config.version = version;
  ASSIGN_OR_RETURN(config.dim, IntField(json, "dim"));
  if (version == VaeVersion::kWan22) {
    ASSIGN_OR_RETURN(config.dec_dim, IntField(json, "dec_dim"));
  } else if (json.contains("dec_dim")) {
    return Invalid("dec_dim", "is a Wan2.2 VAE argument (the Wan2.1 WanVAE_ has no decoder width)");
  }
  ASSIGN_OR_RETURN(config.z_dim, IntField(json, "z_dim"));
  ASSIGN_OR_RETURN(config.num_res_blocks, IntField(json, "num_res_blocks"));
  ASSIGN_OR_RETURN(config.dropout, NumberField(json, "dropout"));

  ASSIGN_OR_RETURN(const nlohmann::json* dim_mult, ArrayField(json, "dim_mult"));
  config.dim_mult.clear();
  for (const nlohmann::json& v : *dim_mult) {
    if (!v.is_number_integer()) return Invalid("dim_mult", "must hold integers");
    config.dim_mult.push_back(v.get<int64_t>());
  }
  ASSIGN_OR_RETURN(const nlohmann::json* attn_scales, ArrayField(json, "attn_scales"));
  config.attn_scales.clear();
  for (const nlohmann::json& v : *attn_scales) {
    if (!v.is_number()) return Invalid("attn_scales", "must hold numbers");
    config.attn_scales.push_back(v.get<double>());
  }
  ASSIGN_OR_RETURN(const nlohmann::json* temporal, ArrayField(json, "temperal_downsample"));
  config.temperal_downsample.clear();
  for (const nlohmann::json& v : *temporal) {
    if (!v.is_boolean()) return Invalid("temperal_downsample", "must hold booleans");
    config.temperal_downsample.push_back(v.get<bool>());
  }
  RETURN_IF_ERROR(config.Validate());
  return config;
}

absl::Status VaeConfig::Validate() const {
  if (dim <= 0) return Invalid("dim", absl::StrCat("must be positive, got ", dim));
  if (z_dim <= 0) return Invalid("z_dim", absl::StrCat("must be positive, got ", z_dim));
  if (num_res_blocks < 0) {
    return Invalid("num_res_blocks", absl::StrCat("must be >= 0, got ", num_res_blocks));
  }
  if (dim_mult.empty()) return Invalid("dim_mult", "must not be empty");
  for (int64_t m : dim_mult) {
    if (m <= 0) return Invalid("dim_mult", absl::StrCat("entries must be positive, got ", m));
  }
  if (temperal_downsample.size() + 1 != dim_mult.size()) {
    return Invalid("temperal_downsample",
                   absl::StrCat("needs ", dim_mult.size() - 1, " entries (one per downsampling level), got ",
                                temperal_downsample.size()));
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    return Invalid("dropout", absl::StrCat("must be in [0, 1), got ", dropout));
  }
  if (version == VaeVersion::kWan21) {
    if (dec_dim != 0) return Invalid("dec_dim", absl::StrCat("is Wan2.2 only and must be 0 here, got ", dec_dim));
    // The reference decoder halves the input channels of levels 1..3 only (after
    // each upsample), so deeper configs cannot be built there either.
    if (dim_mult.size() > 4) {
      return Invalid("dim_mult", absl::StrCat("supports at most 4 levels, got ", dim_mult.size()));
    }
    return absl::OkStatus();
  }
  if (dec_dim <= 0) return Invalid("dec_dim", absl::StrCat("must be positive, got ", dec_dim));
  // The parameter-free level shortcuts regroup channels: AvgDown3D averages
  // in * factor / out channels, DupUp3D repeats each out * factor / in times.
  const size_t levels = dim_mult.size();
  for (size_t i = 0; i < levels; ++i) {
    const bool resampled = i + 1 != levels;
    const int64_t factor_s = resampled ? 2 : 1;
    const int64_t down_t = resampled && temperal_downsample[i] ? 2 : 1;
    const int64_t in = dim * (i == 0 ? 1 : dim_mult[i - 1]), out = dim * dim_mult[i];
    if (in * down_t * factor_s * factor_s % out != 0) {
      return Invalid("dim_mult", absl::StrCat("encoder level ", i, " (", in, " -> ", out,
                                              " channels) does not divide its shortcut's channel groups"));
    }
    if (!resampled) continue;
    const int64_t up_t = temperal_downsample[levels - 2 - i] ? 2 : 1;
    const int64_t up_in = dec_dim * dim_mult[levels - (i == 0 ? 1 : i)];
    const int64_t up_out = dec_dim * dim_mult[levels - 1 - i];
    if (up_out * up_t * factor_s * factor_s % up_in != 0) {
      return Invalid("dim_mult", absl::StrCat("decoder level ", i, " (", up_in, " -> ", up_out,
                                              " channels) does not divide its shortcut's channel groups"));
    }
  }
  return absl::OkStatus();
}

int64_t VaeConfig::patch_size() const { return version == VaeVersion::kWan22 ? 2 : 1; }

int64_t VaeConfig::spatial_stride() const {
  return patch_size() << (dim_mult.size() - 1);
}

int64_t VaeConfig::temporal_stride() const {
  int64_t stride = 1;
  for (size_t i = 0; i + 1 < dim_mult.size(); ++i) {
    if (temperal_downsample[i]) stride *= 2;
  }
  return stride;
}

}  // namespace videogen::models::vae
